"""What a clinician or a researcher reads of one result, on the page, in the JSON, the CLI and the Python API: the
same outcome in the same words, and a refused input's probabilities never shown as an answer. Shipped model,
synthetic inputs (a colour photo-like image is refused as a colour image whatever the network says)."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from conftest import encode, page_disclaimer

from braintumor import Classifier
from braintumor.cli import main
from braintumor.prediction import DISCLAIMER
from braintumor.web import create_app


def colour_photo() -> bytes:
    """A noisy colour gradient: refused ("colour image"), its probabilities far from uniform."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:256, :256]
    img = np.stack([xx, yy, (xx + yy) // 2], axis=-1) * 0.6 + rng.integers(0, 100, (256, 256, 3))
    return encode(np.clip(img, 0, 255).astype(np.uint8), "JPEG")


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load()


@pytest.fixture(scope="module")
def client(shipped):
    return create_app(classifier=shipped).test_client()


def post_page(client, files):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/", data=data, content_type="multipart/form-data")


def test_a_refused_card_carries_no_probabilities_even_hidden(client, shipped):
    """The server-rendered (no-JavaScript) card of a refused input held its bars, filled ("No tumor 98.9%" for a
    colour photo; "Meningioma >99.9%" for a real slice refused for its features), hidden by the style sheet alone:
    a text browser, a reader view or the page without its CSS showed them as if they were an answer."""
    photo = colour_photo()
    pred = shipped.predict(photo)
    assert pred.ood and max(pred.probabilities.values()) > 0.5  # what would be shown
    html = post_page(client, [("photo.jpg", photo)]).get_data(as_text=True)
    card = re.search(r'<article class="card" data-state="ood">(.*?)</article>', html, flags=re.S)[1]
    assert "Not classified: unlike the brain MRI slices the model was trained on: colour image" in card
    bars = re.search(r'<ul class="bars".*?</ul>', card, flags=re.S)[0]
    assert bars.count("<meter") == 4 and "%" not in bars and "bar-top" not in bars


def test_the_cli_table_says_the_disclaimer_the_page_shows(tmp_path, capsys):
    """The table, the format people read answers in ("Glioma 57.0%"), came without a word of what the tool is not,
    while every page and the model card carry it. It goes to stderr, after the tally; csv and jsonl stay quiet."""
    (tmp_path / "photo.jpg").write_bytes(colour_photo())
    assert main(["predict", str(tmp_path), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines()[-1] == DISCLAIMER and "not a medical device" in DISCLAIMER.lower() and DISCLAIMER not in out
    for fmt in ("csv", "jsonl"):
        assert main(["predict", str(tmp_path), "--format", fmt]) == 0
        assert DISCLAIMER not in "".join(capsys.readouterr())


def test_the_disclaimer_shown_excludes_what_the_readme_and_model_card_exclude(client):
    """The README says braintumor "has not been clinically validated, and it must not be used to diagnose, treat or
    triage patients", the model card "not for diagnosis, treatment or triage"; the page, the model card's JSON and
    the CLI said only "not for diagnosis or treatment decisions": a worklist sorted by its answers looked allowed."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    promised = ("not a medical device", "not clinically validated", "diagnosis", "treatment", "triage")
    assert "triage" in (repo / "README.md").read_text() and "triage" in (repo / "models" / "MODEL_CARD.md").read_text()
    page = client.get("/").get_data(as_text=True)
    card = client.get("/api/v1/model").get_json()["disclaimer"]
    said = page_disclaimer(page)
    assert card == DISCLAIMER and said == DISCLAIMER and all(word in DISCLAIMER.lower() for word in promised)
    # the page's bold lead is the disclaimer's own first words, not said twice ("Not a medical device. Research
    # software, not a medical device" was)
    assert said.lower().count("medical device") == 1 and f"<strong>{DISCLAIMER.split(': ')[0]}:</strong>" in page


def test_people_read_pituitary_tumour_and_no_tumour_scripts_keep_the_labels(client, test_images, capsys):
    """"Pituitary" alone names the gland (and "No tumor" was the one "tumor" of a page that writes "tumour"): the
    page read "Pituitary, >99.9% confidence" (the shipped file's own display names), the CLI table "Pituitary". The
    JSON and CSV keep "pituitary" and "notumor"; the table's column fits the longer name."""
    scan = test_images["pituitary"][0]
    assert client.get("/api/v1/model").get_json()["display_names"] == {
        "glioma": "Glioma", "meningioma": "Meningioma", "notumor": "No tumour", "pituitary": "Pituitary tumour"}
    html = post_page(client, [("p.jpg", scan.read_bytes())]).get_data(as_text=True)
    assert "Pituitary tumour, &gt;99.9% confidence" in html and "No tumour" in html and "No tumor" not in html
    api = client.post("/api/v1/predict", data={"file": [(io.BytesIO(scan.read_bytes()), "p.jpg")]},
                      content_type="multipart/form-data")
    assert api.get_json()["results"][0]["label"] == "pituitary"
    assert main(["predict", str(scan), "--no-progress"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert row.split()[-3:] == ["Pituitary", "tumour", ">99.9%"] and header.index("confidence") + 10 == len(row)


def test_a_scan_summary_names_classes_as_the_table_and_says_what_was_not_classified():
    """A volume's summary on stderr said "notumor 3, pituitary 0" under rows reading "No tumour", and "6 slice(s), 5
    classified" with no word of the sixth: refused (a blank end of the volume) or unreadable, the page says which."""
    from braintumor.series import summary_text

    line = summary_text({"path": "head.nii.gz", "summary": {
        "kind": "nifti", "slices": 7, "classified": 4, "refused": 2, "failed": 1, "flagged": 1,
        "counts": {"glioma": 1, "meningioma": 0, "notumor": 3, "pituitary": 0}, "most_suspicious": []}})
    assert line == ("head.nii.gz: 7 slices, 4 classified: Glioma 1, Meningioma 0, No tumour 3, Pituitary tumour 0; "
                    "1 with lower confidence (under 99.0%); 2 not classified (unlike brain MRI); 1 unreadable")


def test_the_model_card_states_the_thresholds_results_are_read_against(client):
    """The card said ood.threshold 0.9405 (a raw distance) beside results whose ood_score is that distance divided by
    it (0.97: accepted), and nothing of review's 99 %: a researcher reading the card got both wrong."""
    from braintumor.prediction import REVIEW_BELOW

    card = client.get("/api/v1/model").get_json()
    assert card["review_below"] == REVIEW_BELOW == 0.99 and card["refused_above_ood_score"] == 1.0
    assert card["ood"]["threshold"] != 1.0  # the raw one, kept
    data = {"file": [(io.BytesIO(colour_photo()), "photo.jpg")]}
    refused = client.post("/api/v1/predict", data=data, content_type="multipart/form-data").get_json()["results"][0]
    assert refused["ood"] and refused["ood_score"] > card["refused_above_ood_score"]


def test_the_python_api_says_the_disclaimer_too():
    """help(braintumor) named the classes and how to predict, and nothing of what the answers are not; the words the
    page and the CLI show were not importable for an application to show beside its own answers."""
    import braintumor

    assert braintumor.DISCLAIMER == DISCLAIMER and "DISCLAIMER" in braintumor.__all__
    assert DISCLAIMER in " ".join(braintumor.__doc__.split()) and "pituitary tumour" in braintumor.__doc__


def test_an_answers_card_says_what_its_confidence_is_calibrated_on(client, shipped, tiny_classifier, test_images):
    """A card said "Glioma >99.9% confidence" and bars of probabilities, and nothing of what they are: calibrated on
    slices like the training ones, too high on scans from another hospital (the model card's limitation, behind a
    JSON link). It says so under the bars of every answer, and, for a model exported without calibration, that it is
    not calibrated; a refused card shows no such note (its body is hidden with its bars)."""
    from braintumor.prediction import CONFIDENCE_CALIBRATED, CONFIDENCE_UNCALIBRATED, limitations

    assert CONFIDENCE_CALIBRATED in " ".join(limitations(list(shipped.classes), {}))  # one sentence, the card's too
    html = post_page(client, [("g.jpg", test_images["glioma"][0].read_bytes())]).get_data(as_text=True)
    card = re.search(r'<article class="card" data-state="ok">(.*?)</article>', html, flags=re.S)[1]
    body = card[card.index('<div class="card-body">'):]
    note = re.search(r'<p class="card-calibration">(.*?)</p>', body, flags=re.S)
    assert note and " ".join(note[1].split()) == CONFIDENCE_CALIBRATED + "."
    template = client.get("/").get_data(as_text=True)  # the card card.js clones: the same note
    assert f'<p class="card-calibration">{CONFIDENCE_CALIBRATED}.</p>' in " ".join(template.split()).replace("> ", ">")
    assert "calibration" not in tiny_classifier.metadata and "calibration" in shipped.metadata
    plain = create_app(classifier=tiny_classifier).test_client().get("/").get_data(as_text=True)
    assert CONFIDENCE_UNCALIBRATED in " ".join(plain.split()) and CONFIDENCE_CALIBRATED not in plain
