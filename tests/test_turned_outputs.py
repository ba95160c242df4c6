"""A real brain MRI slice on its side through every way out but the browser (tests/test_browser_turned.py): the JSON
API, the CLI's table and jsonl, a DICOM series' summary, and the docs that quote the reason. The shipped model and its
orientation check; skipped where the dataset or the shipped model is absent."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.orientation import NOT_ON_ITS_SIDE, QUARTER_TURN, TURN_ADVICE, turn_reason, turn_reasons
from braintumor.prediction import OOD_MESSAGE, refusal_reason

shipped = pytest.mark.skipif(not default_model_path().is_file(), reason="needs the shipped model's orientation check")
#: The shipped check's reason for a slice on its side, alone: it is no refusal for being unlike brain MRI.
REASON = turn_reason(QUARTER_TURN)


def test_the_page_knows_every_turn_reason_by_its_advice():
    """The page tells a turned card by these words (web.pages.TURN_ADVICE): a change of the reason's wording must
    not leave turned cards with the note that contradicts it."""
    logits = np.array([[0.0, 9.0, 0.0, 0.0], [0.0, 0.0, 9.0, 0.0], [0.0, 0.0, 0.0, 9.0]])
    reasons = turn_reasons(logits, 0.5, 0.5)
    assert len(reasons) == 3 and all(r is not None and r.endswith(TURN_ADVICE) for r in reasons), reasons


def test_a_turn_is_said_alone_and_every_other_refusal_after_the_ood_message():
    """A slice on its side is a brain MRI to rotate, not one unlike them: its reason read "unlike the brain MRI
    slices the model was trained on: it looks turned 90 degrees, on its side; ..." in the JSON, the CLI and the page.
    A layout unlike every slice's, upright or turned (NOT_ON_ITS_SIDE), is no turn: said as a distance is."""
    upside_down = turn_reasons(np.array([[0.0, 0.0, 9.0, 0.0]]), 0.5, 0.5)[0]
    assert refusal_reason(REASON) == REASON and refusal_reason(upside_down) == upside_down
    assert refusal_reason("colour image") == f"{OOD_MESSAGE}: colour image"
    assert refusal_reason(NOT_ON_ITS_SIDE) == f"{OOD_MESSAGE}: {NOT_ON_ITS_SIDE}"


def test_the_advice_to_rotate_a_slice_holds_only_if_it_is_turned():
    """Every turn's reason said "rotate it upright and send it again" flatly: the check takes a few upright slices
    for turned (an upright CT slice among them), whose users were told to turn them until they were answered."""
    logits = np.array([[0.0, 9.0, 0.0, 0.0], [0.0, 0.0, 9.0, 0.0], [0.0, 0.0, 0.0, 9.0]])
    reasons = turn_reasons(logits, 0.5, 0.5)
    assert reasons == [f"it looks {QUARTER_TURN}; if it is, {TURN_ADVICE}",
                       f"it looks upside down; if it is, {TURN_ADVICE}",
                       f"it looks {QUARTER_TURN}; if it is, {TURN_ADVICE}"], reasons


@shipped
@pytest.mark.parametrize("name", ["Tr-no_0349.jpg", "Tr-no_0964.jpg"])  # the same file twice in the dataset
def test_an_upright_ct_slice_the_check_takes_for_turned_is_told_to_rotate_it_only_if_it_is_turned(data_root, name):
    """An upright axial CT slice that the dataset files as MRI: its features pass (it is a training image), so only
    the orientation check refuses it, as on its side; turned a quarter anticlockwise it is answered "no tumour". Told
    flatly to rotate it, its user was sent to turn an upright slice until the model answered."""
    from braintumor.predictor import Classifier

    pred = Classifier.load(threads=1).predict(data_root / "Training" / "notumor" / name)
    assert pred.ood and pred.ood_score is not None and pred.ood_score <= 1.0, pred
    assert pred.reason == f"it looks {QUARTER_TURN}; if it is, {TURN_ADVICE}", pred.reason


@pytest.fixture(scope="module")
def on_its_side(test_images, tmp_path_factory) -> Path:
    """A real Testing slice turned 90 degrees, as a PNG (the shipped check names its turn)."""
    path = tmp_path_factory.mktemp("turned") / "on-its-side.png"
    Image.fromarray(np.ascontiguousarray(np.rot90(read_image(test_images["glioma"][0])))).save(path)
    return path


@pytest.fixture(scope="module")
def series_on_its_side(test_images, tmp_path_factory) -> Path:
    """A four-slice DICOM series of real Testing slices, each turned 90 degrees (its header says axial, as stored)."""
    from dicom_factory import series

    folder = tmp_path_factory.mktemp("turned") / "series"
    folder.mkdir()
    for name, data in series([np.ascontiguousarray(np.rot90(np.asarray(Image.fromarray(read_image(test_images[c][0]))
                                                                       .resize((256, 256)))))
                              for c in ("glioma", "meningioma", "notumor", "pituitary")]):
        (folder / name).write_bytes(data)
    return folder


def predict(args: list, capsys) -> tuple[int, str, str]:
    from braintumor.cli import main

    rc = main(["predict", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


@shipped
def test_the_json_api_refuses_a_slice_on_its_side_and_names_the_turn(on_its_side):
    from braintumor.predictor import Classifier
    from braintumor.web import create_app

    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    r = client.post("/api/v1/predict?heatmap=1", data={"file": [(io.BytesIO(on_its_side.read_bytes()), "x.png")]},
                    content_type="multipart/form-data")
    assert r.status_code == 200
    (rec,) = r.get_json()["results"]
    assert rec["ood"] is True and rec["label"] is None and rec["confidence"] is None, rec
    assert rec["reason"] == REASON  # it was "unlike the brain MRI slices the model was trained on: " + REASON
    assert "heatmap_png_base64" not in rec  # nothing to explain: no class


@shipped
def test_the_cli_shows_the_whole_reason_in_the_table_and_the_jsonl_record(on_its_side, tmp_path, capsys):
    """The table cuts a long path to fit its column, never the reason."""
    deep = tmp_path / ("a" * 120) / "on-its-side.png"
    deep.parent.mkdir()
    deep.write_bytes(on_its_side.read_bytes())
    rc, out, err = predict([on_its_side, deep], capsys)
    rows = out.splitlines()[1:]
    assert rc == 0 and len(rows) == 2 and "..." in rows[1]  # the path cut in the middle
    assert all(row.endswith(f"  not classified: {REASON}") for row in rows), rows
    assert "0 classified, 0 of them with lower confidence (under 99.0%), " in err
    assert "(turned: rotate upright and resend)" in err
    rc, out, _ = predict([on_its_side, "--format", "jsonl"], capsys)
    (rec,) = [json.loads(line) for line in out.splitlines()]
    assert rec["ood"] is True and rec["label"] is None and rec["reason"] == REASON


@shipped
def test_a_dicom_series_on_its_side_counts_its_slices_as_refused(series_on_its_side, capsys):
    rc, out, _ = predict([series_on_its_side, "--format", "jsonl", "--summary"], capsys)
    *slices, last = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and len(slices) == 4 and all(r["ood"] and r["label"] is None for r in slices)
    assert [r for r in slices if r["reason"] == REASON]  # the turn named (others: the distance)
    s = last["summary"]
    assert (s["slices"], s["classified"], s["refused"], s["failed"]) == (4, 0, 4, 0) and s["most_suspicious"] == []
    # those on their side counted apart (the summary said "4 refused (unlike brain MRI)"): a part of "refused"
    side = sum(TURN_ADVICE in r["reason"] for r in slices)
    assert s["refused_turned"] == side >= 1 and list(s)[:5] == ["kind", "slices", "classified", "refused",
                                                                 "refused_turned"]
    rc, out, err = predict([series_on_its_side], capsys)
    assert rc == 0 and f"not classified: {REASON}" in out
    line = next(x for x in err.splitlines() if "4 slices, 0 classified" in x)
    unlike = f"; {4 - side} not classified (unlike brain MRI)" if side < 4 else ""
    assert line.endswith(f"4 slices, 0 classified{unlike}; {side} not classified "  # no all-zero class counts
                         "(turned: rotate upright and resend)"), line
    assert (f"{4 - side} not classified (unlike brain MRI), {side} not classified (turned"
            in err.splitlines()[-2])  # the run's last line


@shipped
def test_the_json_api_summary_of_a_series_on_its_side_counts_those_slices(series_on_its_side):
    from dicom_factory import zip_bytes

    from braintumor.predictor import Classifier
    from braintumor.web import create_app

    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    data = zip_bytes([(p.name, p.read_bytes()) for p in sorted(series_on_its_side.iterdir())])
    r = client.post("/api/v1/predict", data={"file": [(io.BytesIO(data), "s.zip")]},
                    content_type="multipart/form-data")
    body = r.get_json()
    (summary,) = body["series"]
    side = sum(TURN_ADVICE in (rec.get("reason") or "") for rec in body["results"])
    assert r.status_code == 200 and summary["summary"]["refused"] == 4 and summary["summary"]["refused_turned"] == side
    assert side >= 1
    # the monitoring counts them apart too (a part of all refusals, which keeps counting every one)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "braintumor_ood_refusals_total 4.0" in metrics and f"braintumor_turned_refusals_total {side}.0" in metrics
    ood = client.get("/api/v1/stats").get_json()["ood"]
    assert (ood["refusals"], ood["turned"]) == (4, side)


def test_the_docs_quote_the_reason_as_the_check_words_it():
    """README (now docs/CLI.md) and docs/WEB.md quoted "it looks turned 90 degrees clockwise; ...": the check names no
    direction of a quarter turn (and words upside down as its reason does)."""
    from conftest import REPO

    worded = set(turn_reasons(np.array([[0.0, 9.0, 0.0, 0.0], [0.0, 0.0, 9.0, 0.0]]), 0.5, 0.5))
    for doc in ("docs/CLI.md", "docs/WEB.md"):
        text = " ".join((REPO / doc).read_text(encoding="utf-8").split())  # quotes wrap across lines
        quoted = re.findall(r'"(it looks [^"]*?rotate it upright and send it again)"', text)
        assert REASON in quoted and set(quoted) <= worded, (doc, quoted)


def test_the_api_docs_say_a_refusal_may_be_of_a_slice_on_its_side(tiny_classifier):
    """help(Prediction), the OpenAPI document, the README's Python API, docs/WEB.md's heading and the model card said
    a refused input was "not a brain MRI" (or "unlike" one), true of all but those refused as on their side."""
    from conftest import REPO

    from braintumor import Prediction
    from braintumor.web import create_app

    doc = " ".join(Prediction.__doc__.split())
    assert TURN_ADVICE in doc and "braintumor.series.turned(p.to_dict())" in doc
    assert "the input does not look like a brain MRI slice" not in doc
    schema = create_app(classifier=tiny_classifier).test_client().get("/api/v1/openapi.json").get_json()
    props = schema["components"]["schemas"]["Prediction"]["properties"]
    assert "turned a quarter or upside down" in props["ood"]["description"]
    assert TURN_ADVICE in props["reason"]["description"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    python_api = readme.split("## Python API", 1)[1].split("```", 2)[1]
    assert "(not a brain MRI)" not in python_api and "print(turned(pred.to_dict()))" in python_api
    web = (REPO / "docs" / "WEB.md").read_text(encoding="utf-8")
    assert "\n## Not a brain MRI\n" not in web and "braintumor_turned_refusals_total" in web
    card = (REPO / "models" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "| refused as not brain MRI" not in card  # its 45 include the 11 told they look turned


@shipped
def test_the_readme_python_api_tells_a_slice_on_its_side(on_its_side):
    """The README's way to tell a refusal on its side (braintumor.series.turned of the Prediction's dict) works."""
    from braintumor import Classifier
    from braintumor.series import turned

    pred = Classifier.load(threads=1).predict(on_its_side)
    assert pred.ood and turned(pred.to_dict()) and pred.reason.endswith(TURN_ADVICE)


@shipped
def test_the_cli_tally_counts_slices_on_their_side_apart_from_not_brain_mri(on_its_side, test_images, tmp_path,
                                                                             capsys):
    """``predict FOLDER`` ended "... 2 refused as not brain MRI": a slice on its side is a brain MRI, to be turned."""
    (tmp_path / "upright.png").write_bytes(Path(test_images["glioma"][0]).read_bytes())
    (tmp_path / "on-its-side.png").write_bytes(on_its_side.read_bytes())
    colour = np.zeros((200, 200, 3), np.uint8)
    colour[..., 0] = 200
    Image.fromarray(colour).save(tmp_path / "red.png")
    rc, _, err = predict([tmp_path], capsys)
    assert rc == 0 and re.fullmatch(r"3 scored: 1 classified, [01] of them with lower confidence \(under 99\.0%\), 1 "
                                    r"not classified \(unlike brain MRI\), 1 not classified \(turned: rotate "
                                    r"upright and resend\), 0 unreadable", err.splitlines()[0])
    (tmp_path / "on-its-side.png").unlink()
    rc, _, err = predict([tmp_path], capsys)  # none turned: the line as before
    assert re.fullmatch(r"2 scored: 1 classified, [01] of them with lower confidence \(under 99\.0%\), 1 not "
                        r"classified \(unlike brain MRI\), 0 unreadable", err.splitlines()[0])


@shipped
def test_the_page_without_javascript_counts_a_series_slices_on_their_side_apart(series_on_its_side):
    """The series block said "4 not classified (unlike brain MRI)" and each slice "not classified (unlike brain MRI)"
    of slices the check took for turned (tests/test_browser_turned.py checks the script's words are the same)."""
    from html import unescape

    from dicom_factory import zip_bytes

    from braintumor.predictor import Classifier
    from braintumor.web import create_app

    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    data = zip_bytes([(p.name, p.read_bytes()) for p in sorted(series_on_its_side.iterdir())])
    html = unescape(client.post("/", data={"file": [(io.BytesIO(data), "s.zip")]},
                                content_type="multipart/form-data").get_data(as_text=True))
    line = " ".join(re.search(r'<p class="series-line">(.*?)</p>', html, re.S)[1].split())
    side = len(re.findall(r"<li>slice \d+: not classified \(turned: rotate upright and resend\)</li>", html))
    unlike = len(re.findall(r"<li>slice \d+: not classified \(unlike brain MRI\)</li>", html))
    assert side >= 1 and side + unlike == 4
    assert f"· {side} not classified (turned: rotate upright and resend)" in line
    assert ("not classified (unlike brain MRI)" in line) == bool(unlike), line


#: The notumor Training slices the shipped check refuses as upside down, each looked at by eye and found stored upside
#: down (docs/RESULTS.md, "The notumor slices refused as upside down, looked at").
UPSIDE_DOWN_NOTUMOR = ("0400", "0401", "0537", "0591", "0615", "0646", "0677", "0727", "0787", "0821", "0832", "0892",
                       "0897", "1473", "1474", "1493", "1526")


@shipped
def test_the_notumor_slices_looked_at_as_stored_upside_down_are_those_the_check_refuses_so(data_root):
    """The docs say what these 17 are; a model whose check no longer refuses them as upside down leaves that stale."""
    from conftest import REPO

    from braintumor import Classifier
    from braintumor.orientation import TURNS

    folder = data_root / "Training" / "notumor"
    got = Classifier.load(threads=1).predict_many([folder / f"Tr-no_{k}.jpg" for k in UPSIDE_DOWN_NOTUMOR])
    assert [p.name for p, pred in got if not (pred.ood and f"it looks {TURNS[2]};" in pred.reason)] == []
    text = (REPO / "docs" / "RESULTS.md").read_text(encoding="utf-8")
    said = " ".join(text.split("**The notumor slices refused as upside down, looked at", 1)[1].split("\n\n", 1)[0]
                    .split())
    n = len(UPSIDE_DOWN_NOTUMOR)
    assert f"{n} of them as upside down" in said and f"all {n} are axial brain MRI slices stored upside down" in said
    assert [k for k in UPSIDE_DOWN_NOTUMOR if k not in said] == []  # each named, as Tr-no_0400 or 0400


#: The Testing slices the shipped check refuses with a turn's reason or the layout's, each looked at by eye: the reason
#: each is given, and what it is (docs/RESULTS.md, "The Testing slices refused as turned a quarter or for their layout,
#: looked at"). Not one of them is on its side.
QUARTER, HALF, LAYOUT = turn_reason(QUARTER_TURN), "it looks upside down;", NOT_ON_ITS_SIDE
TESTING_LOOKED_AT = {
    "glioma/Te-gl_0024": (QUARTER, "upright"), "glioma/Te-gl_0029": (QUARTER, "upright"),
    "glioma/Te-gl_0083": (QUARTER, "upright"), "meningioma/Te-me_0035": (QUARTER, "upright"),
    "meningioma/Te-me_0078": (QUARTER, "upright"), "notumor/Te-no_0086": (QUARTER, "upright"),
    "notumor/Te-no_0013": (QUARTER, "upright"), "meningioma/Te-me_0270": (QUARTER, "tilted"),
    "notumor/Te-no_0154": (HALF, "upside down"), "notumor/Te-no_0245": (HALF, "upside down"),
    "notumor/Te-no_0362": (HALF, "upside down"), "meningioma/Te-me_0030": (LAYOUT, "upright"),
    "notumor/Te-no_0299": (LAYOUT, "upright"), "notumor/Te-no_0324": (LAYOUT, "upside down"),
}


@shipped
def test_the_testing_slices_looked_at_are_refused_as_the_docs_say_and_none_is_on_its_side(data_root):
    """The docs called these upright without a second look, and 4 are stored upside down: a model whose check refuses
    them otherwise, or a doc paragraph that stops naming one, leaves what was seen stale."""
    from conftest import REPO

    from braintumor import Classifier

    paths = [data_root / "Testing" / f"{k}.jpg" for k in TESTING_LOOKED_AT]
    got = dict(Classifier.load(threads=1).predict_many(paths))
    wrong = [k for k, p in zip(TESTING_LOOKED_AT, paths, strict=True)
             if not (got[p].ood and TESTING_LOOKED_AT[k][0] in got[p].reason)]
    assert wrong == []
    text = (REPO / "docs" / "RESULTS.md").read_text(encoding="utf-8")
    head = "**The Testing slices refused as turned a quarter or for their layout, looked at"
    assert head in text
    said = " ".join(text.split(head, 1)[1].split("\n\n", 1)[0].split())
    assert [k for k in TESTING_LOOKED_AT if k.split("/")[1] not in said] == []
    upside = [k.split("/")[1] for k, (_, seen) in TESTING_LOOKED_AT.items() if seen == "upside down"]
    assert f"None of the {len(TESTING_LOOKED_AT)} is on its side" in said
    assert f"{len(upside)} are stored upside down ({', '.join(upside)})" in said
    # Te-no_0324 is Te-no_0299 turned 180 degrees, re-encoded: the docs say so, and that it is stored upside down
    upright, stored = (np.asarray(read_image(data_root / "Testing" / f"{k}.jpg"), dtype=float)
                       for k in ("notumor/Te-no_0299", "notumor/Te-no_0324"))
    assert np.abs(np.rot90(stored, 2) - upright).mean() < 5 < np.abs(stored - upright).mean()
    # Te-no_0086, an upright CT slice, is the Training file Tr-no_0349 (and Tr-no_0964) byte for byte
    ct = (data_root / "Testing" / "notumor" / "Te-no_0086.jpg").read_bytes()
    assert all((data_root / "Training" / "notumor" / f"Tr-no_{k}.jpg").read_bytes() == ct for k in ("0349", "0964"))
