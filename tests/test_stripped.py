"""braintumor.stripped: the note on an answer for a slice that looks skull-stripped (docs/RESULTS.md, "Skull-stripped
slices"). Its statistic on a phantom head and on its brain alone, on real Training slices and their crude strips; the
note's way to the JSON, the CSV, the CLI's table, the API and the page; never a refusal, never another label."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from evaluate_fakes import needs_matplotlib
from PIL import Image

from braintumor import stripped
from braintumor.cli import main
from braintumor.csv_records import csv_columns
from braintumor.image_io import decode_image
from braintumor.model_files import default_model_path
from braintumor.predictor import Classifier
from braintumor.preprocess import PreprocessConfig, prepare
from braintumor.stripped import RINGLESS_AT_LEAST, crop_ringless_share, looks_stripped
from braintumor.wording import STRIPPED, STRIPPED_NOTE

spec = importlib.util.spec_from_file_location("skull_stripped", REPO / "scripts" / "skull_stripped.py")
skull_stripped = importlib.util.module_from_spec(spec)
spec.loader.exec_module(skull_stripped)

SHIPPED = pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
#: Even-index Training slices (the half the rule was chosen on) whose crude strip is plausible and looks stripped.
STRIPPED_EXAMPLES = ("glioma/Tr-glTr_0006.jpg", "glioma/Tr-gl_0042.jpg", "glioma/Tr-gl_0052.jpg")


def _phantom(stripped_: bool, size: int = 224) -> np.ndarray:
    """An axial head: a bright scalp ring, a dark skull ring, a textured brain; or the brain alone on black."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2)
    img = np.zeros((size, size))
    if not stripped_:
        img[(r > 88) & (r <= 98)] = 170
        img[(r > 80) & (r <= 88)] = 8
    brain = r <= 80
    img[brain] = 100 + 20 * np.sin(xx[brain] / 5.0)
    return img.astype(np.uint8)


def _crop(gray: np.ndarray) -> np.ndarray:
    return prepare(gray, PreprocessConfig(image_size=160, background_percentile=1.0))


def test_a_phantom_head_has_its_dark_ring_and_the_brain_alone_has_none():
    head, brain = crop_ringless_share(_crop(_phantom(False))), crop_ringless_share(_crop(_phantom(True)))
    assert head is not None and brain is not None
    assert head < 0.1 and not looks_stripped(head)
    assert brain > 0.9 and looks_stripped(brain)


def test_a_blank_crop_has_no_line_and_is_not_taken_for_stripped():
    share = crop_ringless_share(np.zeros((160, 160), np.uint8))
    assert share is None and not looks_stripped(share)


def _ringless_by_line(crop: np.ndarray, top: float) -> float | None:
    """ringless_share as the module says it, one line at a time: every EVERY-th row and column through the middle,
    read inward from all four sides; a band of DEPTH from the first head pixel (stopped at the far side), ringless
    when its darkest pixel from SKIP in is brighter than half its brightest in the outer RIM."""
    size = crop.shape[-1]
    def px(share: float, least: int = 1) -> int:
        return max(least, round(share * size))
    level = min(int(max(0.1 * top, 1.0)), 255)
    lines = [line for k in range(round(stripped.ENDS * size), round((1 - stripped.ENDS) * size), px(stripped.EVERY))
             for line in (crop[k], crop[k, ::-1], crop[:, k], crop[::-1, k])]
    ringless = []
    for line in (np.asarray(x, dtype=int) for x in lines):
        heads = np.flatnonzero(line > level)
        if len(heads):
            band = line[np.minimum(heads[0] + np.arange(px(stripped.DEPTH, 2)), size - 1)]
            ringless.append(band[px(stripped.SKIP):].min() > band[:px(stripped.RIM)].max() // 2)
    return sum(ringless) / len(ringless) if ringless else None


def test_the_share_is_the_line_by_line_reading_of_the_module_on_any_crop(test_images):
    """The whole-array reading (one gather, reductions across lines) says what a loop over the lines says, exactly:
    on real crops, the phantoms, noise, a blank crop, one head pixel at a far edge, and crop sides other than 160."""
    rng = np.random.default_rng(5)
    dot = np.zeros((160, 160), np.uint8)
    dot[80, 159] = 200  # a head that begins at the last pixel: its band is that pixel, repeated
    crops = [_crop(decode_image(p)[0]) for paths in test_images.values() for p in paths[:6]]
    crops += [_crop(_phantom(False)), _crop(_phantom(True)), np.zeros((160, 160), np.uint8), dot]
    crops += [rng.integers(0, 256, (side, side), dtype=np.uint8) for side in (160, 160, 2, 37, 128, 161, 224)]
    for crop in crops:
        for top in (1.0, 9.5, 60.0, 181.0, 256.0, 4000.0):
            assert stripped.ringless_share(crop, top) == _ringless_by_line(crop, top), (crop.shape, top)


def _png(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    return buf.getvalue()


def _strip(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(the slice, its crude strip), the strip checked to be plausible as scripts/skull_stripped.py keeps them."""
    gray = decode_image(path)[0]
    mask, share = skull_stripped.strip(gray)
    assert skull_stripped.PLAUSIBLE[0] <= share <= skull_stripped.PLAUSIBLE[1]
    return gray, np.where(mask, gray, 0).astype(np.uint8)


@SHIPPED
@pytest.mark.parametrize("name", STRIPPED_EXAMPLES)
def test_real_training_slices_keep_their_ring_and_their_strips_lose_it(data_root, name):
    clf = Classifier.load(threads=1)
    gray, bare = _strip(data_root / "Training" / name)
    whole, strip = (crop_ringless_share(clf.inspect_crop(_png(g))[0]) for g in (gray, bare))
    assert whole < 0.25 < RINGLESS_AT_LEAST < strip


@pytest.fixture(scope="module")
def strip_png(data_root) -> bytes:
    return _png(_strip(data_root / "Training" / STRIPPED_EXAMPLES[1])[1])


@SHIPPED
def test_the_note_goes_on_the_answer_and_changes_nothing_else(strip_png, data_root, monkeypatch):
    clf = Classifier.load(threads=1)
    noted = clf.predict(strip_png)
    assert not noted.ood and noted.note == STRIPPED_NOTE and noted.to_dict()["note"] == STRIPPED_NOTE
    whole = clf.predict(data_root / "Training" / STRIPPED_EXAMPLES[1])
    assert whole.note is None and "note" not in whole.to_dict()
    monkeypatch.setattr(stripped, "looks_stripped", lambda share: False)
    plain = clf.predict(strip_png)
    assert plain.note is None and (plain.label, plain.probabilities, plain.review) == (
        noted.label, noted.probabilities, noted.review)
    # the float path (classify) and predict_many say the same
    monkeypatch.undo()
    batch = clf.preprocess(strip_png)[None]
    assert clf.classify(batch)[0][0].note == STRIPPED_NOTE
    assert [o.note for _, o in clf.predict_many([strip_png, strip_png])] == [STRIPPED_NOTE] * 2


@SHIPPED
def test_the_cli_shows_the_note_in_its_table_json_and_csv(strip_png, tmp_path, capsys):
    image = tmp_path / "bare.png"
    image.write_bytes(strip_png)
    assert main(["predict", str(image), "--format", "table"]) == 0
    assert f"{STRIPPED}: confidence no guide" in capsys.readouterr().out
    assert main(["predict", str(image), "--format", "jsonl"]) == 0
    rec = json.loads(capsys.readouterr().out.splitlines()[0])
    assert (rec["note"], rec["note_kind"]) == (STRIPPED_NOTE, "stripped")  # as the API names it
    assert main(["predict", str(image), "--format", "csv"]) == 0
    header, row = list(csv.reader(io.StringIO(capsys.readouterr().out)))[:2]
    assert header == csv_columns(Classifier.load().classes) and header[-1] == "note" and row[-1] == STRIPPED_NOTE


@SHIPPED
def test_the_page_and_the_api_show_the_note(strip_png):
    from braintumor.web import create_app

    client = create_app(classifier=Classifier.load(threads=1), max_upload_mb=2, max_files=4).test_client()
    r = client.post("/api/v1/predict", data={"file": [(io.BytesIO(strip_png), "bare.png")]},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and r.get_json()["results"][0]["note"] == STRIPPED_NOTE
    assert r.get_json()["results"][0]["note_kind"] == "stripped"
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    schema = schemas["Prediction"]
    assert "note" in schema["properties"] and STRIPPED_NOTE in schema["properties"]["note"]["description"]
    assert "stripped" in schemas["Series"]["properties"]["summary"]["properties"]  # a scan's count of them
    html = client.post("/", data={"file": [(io.BytesIO(strip_png), "bare.png")]},
                       content_type="multipart/form-data").get_data(as_text=True)
    card = html.split('<article class="card" data-state="ok">', 1)[1].split("</article>", 1)[0]
    # a sentence on the card, closed as the paragraphs around it are; the JSON's note stays a clause (above)
    assert f'<p class="card-note" aria-hidden="true">{STRIPPED_NOTE[0].upper()}{STRIPPED_NOTE[1:]}.</p>' in card
    # its live region says the note, as card.js says it: without JavaScript a screen reader heard the answer alone
    said = re.search(r'<span class="card-status-text">(.*?)</span>', card, re.S).group(1)
    assert " ".join(said.split()).endswith(f", {STRIPPED_NOTE}"), said


@SHIPPED
def test_the_cli_last_line_and_the_pages_done_line_count_the_answers_that_look_stripped(strip_png, data_root, tmp_path,
                                                                                         capsys):
    """Each row carried the note, and the run's last line ("2 scored: 2 classified, ...") and the page's "Done:" line
    said nothing of it; they count them as a scan's summary does, only when there are some."""
    from html import unescape

    from braintumor.web import create_app

    bare, whole = tmp_path / "bare.png", data_root / "Training" / STRIPPED_EXAMPLES[1]
    bare.write_bytes(strip_png)
    said = f"1 {STRIPPED} (confidence no guide)"
    for fmt in ("table", "csv"):  # csv with -o: the last line is printed too
        assert main(["predict", str(bare), str(whole), "--format", fmt, "-o", str(tmp_path / f"r.{fmt}")]) == 0
        last = [line for line in capsys.readouterr().err.splitlines() if " scored: " in line]
        assert re.fullmatch(r"2 scored: 2 classified, \d of them with lower confidence \(under [^)]*\), "
                            + re.escape(said) + r", 0 not classified \(unlike brain MRI\), 0 unreadable", last[0])
    assert main(["predict", str(whole), "--format", "table"]) == 0
    assert "skull-stripped" not in capsys.readouterr().err  # none: the line as before

    client = create_app(classifier=Classifier.load(threads=1)).test_client()

    def done(*files: tuple[str, bytes]) -> str:
        html = client.post("/", data={"file": [(io.BytesIO(data), name) for name, data in files]},
                           content_type="multipart/form-data").get_data(as_text=True)
        said = re.search(r'<p id="page-status"[^>]*>(.*?)</p>', html, flags=re.S)[1]
        return " ".join(unescape(re.sub(r"<[^>]+>", "", said)).split())  # its words (counts may be links)

    assert re.fullmatch(r"Done: 2 classified(, 1 of them with lower confidence)?, " + re.escape(said)
                        + r" \(see below\)\.", done(("bare.png", strip_png), ("whole.jpg", whole.read_bytes())))
    assert "skull-stripped" not in done(("whole.jpg", whole.read_bytes()))


@SHIPPED
@needs_matplotlib
def test_evaluate_counts_the_answers_that_carry_the_note(strip_png, test_images, tmp_path, capsys):
    """predict's CSV, JSON and table carried the note, evaluate's outputs nothing of it: its predictions.csv has the
    ``note`` column (after its own, as predict's is after its own), metrics.json how many answers carry it, overall and
    among the wrong ones, and the console and report.html say so in one line."""
    root = tmp_path / "data"
    for c, paths in test_images.items():
        (root / "Testing" / c).mkdir(parents=True)
        (root / "Testing" / c / paths[0].name).write_bytes(paths[0].read_bytes())
    (root / "Testing" / "glioma" / "bare.png").write_bytes(strip_png)  # a glioma slice, stripped: read as no tumour
    out = tmp_path / "out"
    assert main(["evaluate", "--data", str(root), "--out", str(out), "--no-leak-free", "--no-progress"]) == 0
    rows = list(csv.DictReader((out / "predictions.csv").open(encoding="utf-8")))
    assert list(rows[0])[-2:] == ["refused_turned", "note"] and "note" in csv_columns(("a",))
    noted = {Path(r["path"]).name: r["note"] for r in rows}
    assert noted.pop("bare.png") == STRIPPED_NOTE and set(noted.values()) == {""} and len(noted) == 4
    bare = next(r for r in rows if r["path"].endswith("bare.png"))
    wrong = sum(r["true"] != r["predicted"] and r["refused"] == "0" for r in rows)
    assert bare["refused"] == "0" and bare["predicted"] != "glioma"  # the case the note is for: sure, and wrong
    summary = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["stripped"]
    assert summary == {"accepted": sum(r["refused"] == "0" for r in rows), "noted": 1, "wrong_accepted": wrong,
                       "wrong_noted": 1}
    said = (f"1 {STRIPPED} (confidence no guide) among {summary['accepted']} accepted answers; of the {wrong} wrong "
            "ones, 1 carries the note")
    assert said in capsys.readouterr().out.splitlines()
    assert f"<p>{said[:1].upper()}{said[1:]}.</p>" in (out / "report.html").read_text(encoding="utf-8")


def test_a_model_without_the_note_is_said_so_not_counted_as_none():
    """Under MIN_CROP no note is made: metrics.json's count is null and the line says why, not "0 look stripped"."""
    ok = np.ones(3, bool)
    assert stripped.note_summary(np.zeros(3, bool), ok, ok, 64) is None
    assert "not made for a model input under 128 px" in stripped.note_text(None)
    assert stripped.note_summary(np.array([1, 1, 0], bool), np.array([0, 1, 0], bool), np.array([1, 0, 1], bool),
                                 160) == {"accepted": 2, "noted": 1, "wrong_accepted": 2, "wrong_noted": 1}


def test_a_scans_summary_counts_its_slices_that_look_stripped():
    from types import SimpleNamespace

    from braintumor.series import summarise, summary_text

    probs = {"glioma": 0.9, "meningioma": 0.05, "notumor": 0.03, "pituitary": 0.02}
    records = [{"path": "brats.nii.gz", "slice": k, "label": "glioma", "confidence": 0.9, "probabilities": probs,
                "ood": False, "review": True, **({"note": STRIPPED_NOTE} if k else {})} for k in range(3)]
    volume = SimpleNamespace(kind="nifti", notes=[])
    classes = tuple(probs)
    summary = summarise(volume, records, classes)
    assert summary["stripped"] == 2
    assert "; 2 look skull-stripped (confidence no guide)" in summary_text({"path": "brats.nii.gz",
                                                                            "summary": summary})
    one = summarise(volume, records[:2], classes)
    assert "; 1 looks skull-stripped (confidence no guide)" in summary_text({"path": "x", "summary": one})
    assert "stripped" not in summarise(volume, records[:1], classes)  # none: the summary's fields as before



def test_a_series_line_on_the_page_counts_them_as_the_cli_does(tiny_classifier):
    from series_render import series_html

    html = series_html(tiny_classifier, "brats.nii.gz", {
        "slices": 3, "classified": 3, "refused": 0, "refused_turned": 0, "failed": 0, "flagged": 0, "stripped": 3,
        "counts": {"glioma": 3}})
    assert "3 slices · Glioma 3 · 3 look skull-stripped (confidence no guide)</p>" in html
    static = REPO / "src" / "braintumor" / "web" / "static"
    assert "braintumorText.stripped(s.stripped)" in (static / "series.js").read_text(encoding="utf-8")
    assert '" skull-stripped (confidence no guide)"' in (static / "text.js").read_text(encoding="utf-8")


def test_a_model_with_small_crops_makes_no_note(tiny_classifier):
    """Under MIN_CROP (the tiny model's 64 px) the skull ring blurs: whole heads were taken for stripped there."""
    bare = _phantom(True)
    assert tiny_classifier.image_size < stripped.MIN_CROP
    assert looks_stripped(crop_ringless_share(prepare(bare, tiny_classifier.preprocess_config)))  # it would say so
    assert tiny_classifier.predict(_png(bare)).note is None


def test_a_note_carries_its_kind_a_name_that_stays_in_the_json_and_the_schema():
    """The page counted any answer with a ``note`` as one that looks stripped: the record names the note's kind
    (wording.NOTE_KINDS), which the page counts by, and the API's schema says so."""
    from braintumor.prediction import Prediction
    from braintumor.web.api_schemas import component_schemas

    probs = {"a": 0.9, "b": 0.1}
    rec = Prediction("a", 0.9, probs, note=STRIPPED_NOTE).to_dict()
    assert (rec["note"], rec["note_kind"]) == (STRIPPED_NOTE, "stripped") and stripped.noted(rec)
    other = Prediction("a", 0.9, probs, note="another caution").to_dict()
    assert other["note"] == "another caution" and "note_kind" not in other and not stripped.noted(other)
    assert "note_kind" not in Prediction("a", 0.9, probs).to_dict()
    assert component_schemas(["a", "b"])["Prediction"]["properties"]["note_kind"]["enum"] == ["stripped"]
