"""``predict --resume`` continued with another model than the one that began the file: said, not mixed in silence."""

from __future__ import annotations

import shutil

import pytest
from cli_runner import run_predict

from braintumor.model_files import default_model_path

FLOAT = default_model_path()
INT8 = FLOAT.with_name("braintumor-tumornet-s-int8.onnx")
pytestmark = pytest.mark.skipif(not (FLOAT.exists() and INT8.exists()), reason="no shipped models")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_file_resumed_with_another_model_is_warned_of_and_with_its_own_is_not(test_images, tmp_path, fmt, capsys):
    """A run begun with the float model and resumed with the int8 copy (another --model, a changed $BRAINTUMOR_MODEL)
    appended the second model's answers to the first's with no word: one file of two models' answers."""
    images = _copies(test_images, tmp_path)
    target = tmp_path / f"r.{fmt}"
    assert run_predict([*images[:2], "-o", target, "--resume", "--model", FLOAT], capsys)[0] == 0
    rc, _, err = run_predict([*images, "-o", target, "--resume", "--model", INT8], capsys)
    assert rc == 0
    assert f"warning: {target} may hold another model's answers: {images[0]} is glioma " in err
    assert "with braintumor-tumornet-s-int8.onnx now (unless the file changed since): continue with the model that " \
           "began it (--model; $BRAINTUMOR_MODEL), or write to a new file\n" in err
    target.unlink()
    assert run_predict([*images[:2], "-o", target, "--resume", "--model", FLOAT], capsys)[0] == 0
    rc, _, err = run_predict([*images, "-o", target, "--resume", "--model", FLOAT, "--batch-size", "1"], capsys)
    assert rc == 0 and "1 scored" in err and "warning" not in err


@pytest.mark.parametrize(("fmt", "edited", "shown"), [("jsonl", "NaN", "nan"), ("jsonl", "Infinity", "inf"),
                                                      ("jsonl", '"abc"', "abc"), ("csv", "nan", "nan"),
                                                      ("csv", "inf", "inf"), ("csv", "-1", "-1")])
def test_a_resumed_file_whose_ood_score_is_no_distance_is_refused_naming_the_line(test_images, tmp_path, fmt, edited,
                                                                                   shown, capsys):
    """A hand-edited ``nan`` or ``inf`` in a record's ood_score was read as a number (``float()`` takes them): the
    model check compared it and warned of "another model's answers (ood_score nan)". Refused, as a record braintumor
    predict never writes, naming its line; the file untouched."""
    import json

    images = _copies(test_images, tmp_path)
    target = tmp_path / f"r.{fmt}"
    assert run_predict([*images[:2], "-o", target, "--resume", "--model", FLOAT], capsys)[0] == 0
    lines = target.read_text().splitlines(keepends=True)
    if fmt == "jsonl":
        rec = json.loads(lines[1])
        assert isinstance(rec["ood_score"], float)
        lines[1] = lines[1].replace(f'"ood_score": {json.dumps(rec["ood_score"])}', f'"ood_score": {edited}')
    else:
        lines[2] = _csv_cell_edited(lines, 2, "ood_score", edited)
    target.write_text("".join(lines))
    before = target.read_bytes()
    rc, _, err = run_predict([*images, "-o", target, "--resume", "--model", FLOAT], capsys)
    line = 2 if fmt == "jsonl" else 3
    assert (rc, err) == (2, f"error: cannot resume: line {line} of {target} has ood_score {shown}, which braintumor "
                            "predict never writes (a finite distance >= 0): correct or remove that line, or choose "
                            "another -o\n")
    assert target.read_bytes() == before


@pytest.mark.parametrize(("fmt", "edited", "shown"), [("jsonl", "NaN", "nan"), ("jsonl", "Infinity", "inf"),
                                                      ("jsonl", "true", "True"), ("csv", "nan", "nan"),
                                                      ("csv", "inf", "inf"), ("csv", "1.5", "1.5")])
def test_a_resumed_file_whose_probability_is_no_probability_is_refused_naming_the_line(test_images, tmp_path, fmt,
                                                                                      edited, shown, capsys):
    """check_same_model read the sample record's probabilities with ``float()``, which takes a hand-edited ``nan`` or
    ``inf``: a misleading "another model's answers" warning. Refused as the ood_score is, naming the line and class."""
    import json

    images = _copies(test_images, tmp_path)
    target = tmp_path / f"r.{fmt}"
    assert run_predict([*images[:2], "-o", target, "--resume", "--model", FLOAT], capsys)[0] == 0
    lines = target.read_text().splitlines(keepends=True)
    if fmt == "jsonl":
        rec = json.loads(lines[0])
        old = f'"glioma": {json.dumps(rec["probabilities"]["glioma"])}'
        assert old in lines[0]
        lines[0] = lines[0].replace(old, f'"glioma": {edited}')
    else:
        lines[1] = _csv_cell_edited(lines, 1, "glioma", edited)
    target.write_text("".join(lines))
    before = target.read_bytes()
    rc, _, err = run_predict([*images, "-o", target, "--resume", "--model", FLOAT], capsys)
    line = 1 if fmt == "jsonl" else 2
    assert (rc, err) == (2, f"error: cannot resume: line {line} of {target} has glioma probability {shown}, which "
                            "braintumor predict never writes (a number from 0 to 1): correct or remove that line, or "
                            "choose another -o\n")
    assert target.read_bytes() == before


def _copies(test_images, tmp_path) -> list:
    """Three glioma slices copied into ``tmp_path``: the inputs of a run and its resumed run."""
    images = []
    for p in test_images["glioma"][:3]:
        images.append(tmp_path / p.name)
        shutil.copy(p, images[-1])
    return images


def _csv_cell_edited(lines: list[str], at: int, column: str, value: str) -> str:
    """CSV line ``at`` of ``lines`` with its ``column`` (named by line 0, the header) set to ``value``, by hand."""
    import csv
    import io

    header, row = next(csv.reader([lines[0]])), next(csv.reader([lines[at]]))
    row[header.index(column)] = value
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(row)
    return text.getvalue()


@pytest.mark.parametrize(("fmt", "column", "edited", "said"), [
    ("jsonl", "confidence", "0.5", "a Prediction's confidence is its label's probability ('glioma': {p}, to 6 "
                                   "decimals), not 0.5"),
    ("jsonl", "review", "true", "a Prediction's review is true when its confidence is under 0.99 (REVIEW_BELOW), "
                                "false otherwise: not True with confidence {p}"),
    ("jsonl", "ood_score", "2.5", "a Prediction's ood_score is at most 1 (the threshold) on an accepted answer: "
                                  "above it the input is refused (ood true), not accepted with 2.5"),
    ("csv", "confidence", "0.5", "a Prediction's confidence is its label's probability ('glioma': {p}, to 6 "
                                 "decimals), not 0.5"),
    ("csv", "label", "notumor", "a Prediction's label is its most probable class ('glioma': {p}), not 'notumor' ("),
    ("csv", "review", "True", "a Prediction's review is true when its confidence is under 0.99 (REVIEW_BELOW), "
                              "false otherwise: not True with confidence {p}"),
])
def test_a_resumed_file_whose_answer_disagrees_with_itself_is_refused_naming_the_line(test_images, tmp_path, fmt,
                                                                                      column, edited, said, capsys):
    """A hand-edited record whose label is not its most probable class, whose confidence is not its label's
    probability or whose review flag is not the 99 % rule was carried on as the model's answer: refused as
    Prediction.from_dict refuses it, naming the line; the file untouched."""
    import json

    images = _copies(test_images, tmp_path)
    target = tmp_path / f"r.{fmt}"
    assert run_predict([*images[:2], "-o", target, "--resume", "--model", FLOAT], capsys)[0] == 0
    lines = target.read_text().splitlines(keepends=True)
    at = 0 if fmt == "jsonl" else 1
    rec = json.loads(lines[0]) if fmt == "jsonl" else None
    if fmt == "jsonl":
        assert rec["label"] == "glioma" and rec["review"] is False, rec  # a sure glioma answer, as shipped
        rec[column] = json.loads(edited)
        lines[0] = json.dumps(rec) + "\n"
        p = rec["probabilities"]["glioma"]
    else:
        import csv

        header, row = next(csv.reader([lines[0]])), next(csv.reader([lines[1]]))
        assert row[header.index("label")] == "glioma" and row[header.index("review")] == "False", row
        p = float(row[header.index("glioma")])
        lines[1] = _csv_cell_edited(lines, 1, column, edited)
    target.write_text("".join(lines))
    before = target.read_bytes()
    rc, _, err = run_predict([*images, "-o", target, "--resume", "--model", FLOAT], capsys)
    assert rc == 2 and err.endswith("; correct or remove that line, or choose another -o\n"), err
    assert err.startswith(f"error: cannot resume: line {at + 1} of {target} is no answer braintumor predict writes: "
                          f"{said.format(p=p)}"), err
    assert target.read_bytes() == before
