"""The model card page (GET /model, the footer's "model card" link): the JSON card's facts in words, for a clinician.
Every number is the model file's own, read when the page is asked for."""

from __future__ import annotations

import itertools
import json
import re
from html import unescape

import onnx
import pytest

from braintumor.classes import display_name
from braintumor.metrics import percent
from braintumor.model_files import default_model_path
from braintumor.model_loading import METADATA_KEY
from braintumor.prediction import DISCLAIMER
from braintumor.predictor import Classifier
from braintumor.web import create_app

pytestmark = pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load(threads=1)


def _text(html: str) -> str:
    """The page's words as a reader gets them: tags dropped, white space collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_page_says_the_shipped_models_facts_from_its_file(shipped):
    """The footer's "model card" opened /api/v1/model, raw JSON a clinician cannot read. The page says its name and
    version, classes, input size, training data, test accuracy, temperature and ECE, intended use, limitations,
    refusals and the disclaimer: each value read here from the ONNX file itself, not written into the test."""
    meta = json.loads({p.key: p.value for p in onnx.load(str(default_model_path())).metadata_props}[METADATA_KEY])
    client = create_app(classifier=shipped).test_client()
    r = client.get("/model")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    text = _text(html)
    m, tr, cal = meta["metrics"], meta["training"], meta["calibration"]
    size = meta["preprocess"]["image_size"]
    names = [display_name(c, meta.get("display_names")) for c in meta["classes"]]  # the names the page shows
    for words in (f"{meta['name']} {meta['model_version']}", *names, f"{size} × {size}",
                  f"{tr['train_images']:,} slices", f"{tr['val_images']:,} slices", f"{m['n']:,} slices",
                  percent(m["accuracy"]), f"{m['macro_f1']:.4f}", f"temperature of {meta['temperature']}",
                  percent(m["ece"]), percent(cal["val_before"]["ece"]), percent(cal["val_after"]["ece"]),
                  percent(meta["ood"]["val_refused"]), "no leak-free accuracy", meta["data_fingerprint"],
                  "Research, teaching", "4 answers only", "brain MRI only", DISCLAIMER):
        assert words in text, words
    assert '<html lang="en"' in html and "<script" not in html.split("</head>")[1]  # no script needed in the body
    headings = [int(h) for h in re.findall(r"<h([1-6])", html)]
    assert headings[:2] == [1, 2] and all(b - a <= 1 for a, b in itertools.pairwise(headings))
    assert 'href="/api/v1/model"' in html  # the JSON, for programs
    assert 'href="/model"' in html  # the footer's link is this page now
    assert client.get("/").get_data(as_text=True).count('href="/model"') == 1
    assert 'href="/api/v1/model"' not in re.search(r"<footer.*?</footer>", client.get("/").get_data(as_text=True),
                                                    re.S).group()


def test_leak_free_and_per_class_numbers_show_where_the_file_holds_them_and_no_calibration_is_said(shipped):
    """A model file whose metrics hold the leak-free accuracy and per-class numbers: a sentence and a table with
    column and row headers; one without calibration says its confidence is not calibrated, no temperature."""
    meta = {k: v for k, v in shipped.metadata.items() if k != "calibration"}
    per_class = {c: {"precision": 0.91234, "recall": 0.8765, "f1": 0.8941, "support": 300 + i}
                 for i, c in enumerate(shipped.classes)}
    meta["metrics"] = {**meta["metrics"], "leak_free": {"accuracy": 0.98765, "n": 838}, "per_class": per_class}
    html = create_app(classifier=Classifier(shipped.session, meta)).test_client().get("/model").get_data(as_text=True)
    text = _text(html)
    assert "98.77%" in text and "838 slices" in text and "no leak-free accuracy" not in text
    table = re.search(r"<table.*?</table>", html, re.S).group()
    assert table.count('<th scope="col">') == 5 and table.count('<th scope="row">') == len(shipped.classes)
    assert "<caption>" in table and "91.23%" in table and "87.65%" in table and "303" in table
    assert "not calibrated" in text and "temperature" not in text


def test_a_model_file_with_markup_or_mistyped_numbers_in_its_metadata_gets_its_page_not_a_500(shipped, tmp_path):
    """A model file's metadata hand-edited or written by another tool: its strings are shown as text (a name holding
    <script> is escaped), and a section that is no mapping or a count or share that is no number is left out, as an
    older export's missing one is. "{:,}" and "%.4f" of a string, a list's .items() and a validation ECE without its
    'after' failed the page with a 500 while /api/v1/model answered."""
    markup = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    model = onnx.load(str(default_model_path()))
    prop = next(p for p in model.metadata_props if p.key == METADATA_KEY)
    meta = json.loads(prop.value)
    meta.update(name=markup, model_version=markup, data_fingerprint=markup, created=markup, num_parameters="many",
                display_names={c: markup for c in meta["classes"]})
    meta["training"].update(train_images="5,712", best_epoch=[3])
    meta["metrics"].update(accuracy="0.99", macro_f1="high", n=None, per_class=[1, 2], leak_free="yes")
    meta["calibration"].pop("val_after")
    meta["calibration"]["n_val"] = {"a": 1}
    prop.value = json.dumps(meta)
    onnx.save(model, tmp_path / "edited.onnx")
    app = create_app(model_path=tmp_path / "edited.onnx", threads=1)
    app.testing = False  # the 500 a user gets, not the exception
    r = app.test_client().get("/model")
    assert r.status_code == 200, r.status_code
    html = r.get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert _text(html).count(markup) >= 3  # shown as the text it is
    assert "The model file records no test results." in _text(html) and "Per class" not in html
    assert "Calibration error (ECE) on validation" not in html and "temperature of" in _text(html)
    assert app.test_client().get("/api/v1/model").get_json()["metrics"]["accuracy"] == "0.99"  # the JSON as it is


def test_the_shipped_models_page_says_its_file_records_no_per_class_numbers(shipped):
    """docs/WEB.md: the shipped model's metadata holds no leak-free accuracy nor per-class numbers, and the page says
    so; it said so of the leak-free accuracy only, and of the per-class numbers left their table out unsaid."""
    assert "per_class" not in shipped.metadata["metrics"]
    text = _text(create_app(classifier=shipped).test_client().get("/model").get_data(as_text=True))
    assert "The model file records no per-class results" in text
