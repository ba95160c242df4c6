"""scripts/skull_stripped.py, which measures what the model does with skull-stripped slices (an approximation made
from Testing): its strip must keep the brain and drop the scalp across thin links, its rows count a refusal as not
right, it must run end to end, and the figures docs/RESULTS.md, models/MODEL_CARD.md and README.md quote must be the
ones its ``--json`` wrote (docs/figures/skull_stripped.json)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from conftest import REPO
from PIL import Image

from braintumor.image_io import ImageError
from braintumor.model_files import default_model_path
from braintumor.orientation import NOT_ON_ITS_SIDE, TURN_ADVICE, TURNS
from braintumor.prediction import Prediction
from braintumor.wording import STRIPPED_NOTE

spec = importlib.util.spec_from_file_location("skull_stripped", REPO / "scripts" / "skull_stripped.py")
skull_stripped = importlib.util.module_from_spec(spec)
spec.loader.exec_module(skull_stripped)
FIGURES = REPO / "docs" / "figures" / "skull_stripped.json"


def _head(size: int = 224) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A synthetic axial head: a bright scalp ring, a dark skull ring crossed by 3 px bridges, a textured brain with
    a dark ventricle. Returns (image, brain disk, scalp ring)."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2)
    brain, scalp = r <= 80, (r > 88) & (r <= 98)
    img = np.zeros((size, size), np.float64)
    img[scalp] = 170
    img[(r > 80) & (r <= 88)] = 8  # the skull: dark in T1, T2 and FLAIR
    img[brain] = 100 + 20 * np.sin(xx[brain] / 5.0)
    img[r <= 12] = 25  # a ventricle, darker than the cut-off: kept by the hole filling
    for col in (60, 160):  # thin links across the skull ring, which the erosion must cut
        img[(abs(xx - col) <= 1) & (r > 78) & (r <= 90)] = 150
    return img.astype(np.uint8), brain, scalp


def test_the_strip_keeps_the_brain_and_drops_the_scalp_across_thin_links():
    img, brain, scalp = _head()
    mask, share = skull_stripped.strip(img)
    assert (mask & scalp).sum() == 0
    assert (mask & brain).sum() / brain.sum() > 0.99 and (mask & ~brain).sum() < 0.01 * brain.sum()
    assert skull_stripped.PLAUSIBLE[0] <= share <= skull_stripped.PLAUSIBLE[1]


def test_a_blank_slice_keeps_nothing():
    mask, share = skull_stripped.strip(np.zeros((100, 100), np.uint8))
    assert share == 0 and not mask.any()


def test_a_refusal_or_an_unreadable_image_is_not_right():
    outcomes = [Prediction("a", 0.999, {"a": 0.999, "b": 0.001}),
                Prediction("b", 0.95, {"a": 0.05, "b": 0.95}, review=True, note=STRIPPED_NOTE),
                Prediction(None, None, {"a": 0.5, "b": 0.5}, ood=True, reason="unlike: its features are far"),
                ImageError("image is 1x1 pixels")]
    row = skull_stripped.tally(["a", "a", "b", "b"], outcomes, ("a", "b"))
    assert (row["right"], row["accepted"], row["refused"], row["accuracy"]) == (1, 2, 2, 0.25)
    assert row["recall"] == {"a": 0.5, "b": 0.0} and row["wrong_as"] == {"a as b": 1}
    assert (row["wrong_accepted"], row["wrong_flagged"], row["wrong_mean_confidence"]) == (1, 1, 0.95)
    assert row["reasons"] == {"its features are far": 1, "image is 1x1 pixels": 1}
    assert (row["wrong_noted"], row["noted"], row["wrong_flagged_or_noted"]) == (1, 1, 1)


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_the_script_runs_on_a_few_slices(data_root, tmp_path, capsys):
    out, picture = tmp_path / "s.json", tmp_path / "g.png"
    assert skull_stripped.main(["--data", str(data_root), "--limit", "6", "--json", str(out),
                                "--gallery", str(picture)]) == 0
    doc = json.loads(out.read_text())
    assert list(doc["rows"]) == ["as it is, all slices", "as it is", "skull-stripped", "skull-stripped, int8 file"]
    assert doc["rows"]["as it is"]["n"] == doc["passed"] == sum(doc["classes"].values()) <= doc["slices"]
    with Image.open(picture) as img:
        assert img.mode == "L" and img.width == 4 * 2 * 112
    assert "| skull-stripped |" in capsys.readouterr().out


def _prose(doc: str) -> str:
    return " ".join((REPO / doc).read_text().split())


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def test_the_docs_figures_are_what_the_script_wrote():
    """Every figure of RESULTS' "Skull-stripped slices" and "At a glance" row, the model card's limit and README's line
    is the JSON's."""
    s = json.loads(FIGURES.read_text())
    rows, classes = s["rows"], ("glioma", "meningioma", "notumor", "pituitary")
    text = _prose("docs/RESULTS.md").split("## Skull-stripped slices", 1)[1].split("\n## ", 1)[0]
    assert ("python scripts/skull_stripped.py --model models/braintumor-tumornet-s.onnx --int8 "
            "models/braintumor-tumornet-s-int8.onnx --gallery docs/figures/skull_stripped.png --json "
            "docs/figures/skull_stripped.json") in text
    for name, row in rows.items():
        assert skull_stripped.line(name, row, classes) in text, name
    st, same, int8 = rows["skull-stripped"], rows["as it is"], rows["skull-stripped, int8 file"]
    notumor = sum(n for k, n in st["wrong_as"].items() if k.endswith(" as notumor"))
    as_notumor = {k.split()[0]: n for k, n in st["wrong_as"].items() if k.endswith(" as notumor")}
    said = [f"{s['passed']} of the {s['slices']} slices ({100 * s['passed_share']:.1f} %)",
            f"({s['classes']['glioma']} glioma, {s['classes']['meningioma']} meningioma, {s['classes']['notumor']} "
            f"no tumour, {s['classes']['pituitary']} pituitary)",
            f"{st['refused']} of the {st['n']} stripped slices are refused ({same['refused']} as they are)",
            f"Of the {st['accepted']} answers given, {st['wrong_accepted']} are wrong ({same['wrong_accepted']} of "
            f"{same['accepted']} as they are): {notumor} tumours called \"no tumour\" ({as_notumor['pituitary']} "
            f"pituitary, {as_notumor['glioma']} glioma, {as_notumor['meningioma']} meningioma)",
            f"mean confidence is {100 * st['wrong_mean_confidence']:.1f} %, and only {st['wrong_flagged']} of the "
            f"{st['wrong_accepted']} are under 99 %", f"so {st['wrong_accepted'] - st['wrong_flagged']} wrong answers",
            f"{_pct(same['accuracy'])} right as they are, against {_pct(rows['as it is, all slices']['accuracy'])}",
            # the note on slices that look stripped (braintumor.stripped)
            f"of the {st['wrong_accepted']} wrong answers on stripped slices, {st['wrong_noted']} carry the note, and "
            f"all {st['wrong_flagged_or_noted']} carry the note or the review flag",
            f"{st['noted']} of the {st['accepted']} answers on stripped slices carry it "
            f"({100 * st['noted'] / st['accepted']:.1f} %; int8 {int8['noted']} of {int8['accepted']})",
            f"{rows['as it is, all slices']['noted']} of the {rows['as it is, all slices']['accepted']} answers on all "
            f"{s['slices']} Testing slices as they are", f"{same['noted']} of the {same['accepted']} on the "
            f"{s['passed']} slices whose strip was plausible"]
    assert [x for x in said if x not in text] == []
    # each refusal reason's count, as the prose words it: a reason it does not word is a figure it left out
    words = {"far from every": " as far from every", TURNS[2]: " as upside down", TURN_ADVICE: " as turned on their",
             NOT_ON_ITS_SIDE: " as laid out unlike every"}
    unworded = [r for r in st["reasons"] if not any(k in r for k in words)]
    assert unworded == [] and sum(st["reasons"].values()) == st["refused"]
    said_as = {r: next(w for k, w in words.items() if k in r) for r in st["reasons"]}
    assert [w for w in said_as.values() if w not in text] == []
    assert {r: int(text.split(w, 1)[0].split()[-1]) for r, w in said_as.items()} == st["reasons"]
    assert (f"{_pct(int8['refused_share'])} refused, {int8['wrong_accepted']} wrong answers at a mean confidence of "
            f"{100 * int8['wrong_mean_confidence']:.1f} %, {int8['wrong_flagged']} of them flagged") in text
    card = _prose("models/MODEL_CARD.md").split("- **Skull-stripped slices", 1)[1].split(" - **", 1)[0]
    assert (f"{st['wrong_noted']} of the {st['wrong_accepted']} wrong answers carried it (all "
            f"{st['wrong_flagged_or_noted']} the note or the review flag), and {rows['as it is, all slices']['noted']} "
            f"of the {rows['as it is, all slices']['accepted']} answers on the Testing slices as they are") in card
    wrong = st["wrong_accepted"] / st["accepted"]
    assert [x for x in (f"the {s['passed']} of {s['slices']}", f"refused {_pct(st['refused_share'])} of them "
                        f"({_pct(same['refused_share'])} of the same", f"{st['wrong_accepted']} of the "
                        f"{st['accepted']} answers it gave were wrong ({100 * wrong:.1f} %; "
                        f"{same['wrong_accepted']} of {same['accepted']} as they are), {notumor} of them",
                        f"mean confidence of {100 * st['wrong_mean_confidence']:.1f} %; only {st['wrong_flagged']} "
                        f"of the {st['wrong_accepted']} were flagged", f"pituitary tumours "
                        f"({_pct(st['recall']['pituitary'])}) and meningiomas ({_pct(st['recall']['meningioma'])})")
            if x not in card] == []
    assert (f"refuses {_pct(st['refused_share'])} and answers {100 * wrong:.1f} % of the rest wrong, mostly \"no "
            f"tumour\", at a mean confidence of {100 * st['wrong_mean_confidence']:.1f} %") in _prose("README.md")
    glance = _prose("docs/RESULTS.md").split("## At a glance", 1)[1].split("## ", 1)[0]
    assert (f"of {s['passed']} plausibly stripped slices: {_pct(st['refused_share'])} refused") in glance
    assert (f"of the answers, {_pct(st['accuracy_accepted'])} right, {st['wrong_accepted']} wrong at a mean confidence "
            f"of {100 * st['wrong_mean_confidence']:.1f} %") in glance
