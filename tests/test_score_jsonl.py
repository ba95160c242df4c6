"""scripts/score_jsonl.py on labelled folders from elsewhere: other class-folder names, patient folders, volumes,
DICOM series, --summary lines and text that is not JSONL. Synthetic records: no model, no dataset."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from braintumor.classes import CLASSES, FOLDER_ALIASES
from braintumor.orientation import TURN_ADVICE
from braintumor.refusal_wording import TURNED_RESEND, UNLIKE_MRI, refusals_text
from braintumor.wording import UNREADABLE, counted

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "score_jsonl.py"


def record(path: str, best: str, ood: bool = False, **extra: object) -> dict:
    probs = {c: (0.97 if c == best else 0.01) for c in CLASSES}
    return {"path": path, "label": None if ood else best, "confidence": None if ood else 0.97,
            "probabilities": probs, "ood": ood, **extra}


def score(lines: list[dict | str]) -> subprocess.CompletedProcess:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    return subprocess.run([sys.executable, str(SCRIPT)], input=text, capture_output=True, text=True, timeout=60)


def test_other_folder_names_and_patient_folders_are_scored_by_their_class():
    """Every image of a set with no_tumor / "Glioma Tumor" folders, or patient folders below the class folders, was
    scored wrong ("accuracy 0/24", one "recall" line per patient folder): the class was the file's parent folder."""
    done = score([record("ext/Test/Glioma Tumor/patient01/a.png", "glioma"),
                  record("ext/Test/no_tumor/patient02/b.png", "notumor"),
                  record("ext/pituitary-tumor/c.png", "glioma"),
                  record("ext/no_tumor/d.png", "meningioma", ood=True)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "accuracy 2/4 = 50.00 %  (0 unreadable)",
        "1 not classified (unlike brain MRI); answered correctly (not classified counts as wrong): 2/4 = 50.00 %",
        "  glioma      recall 1/1 = 100.00 %",
        "  notumor     recall 1/2 = 50.00 %",
        "  pituitary   recall 0/1 = 0.00 %"]


def test_volumes_series_and_records_in_no_class_folder_are_counted_apart_not_scored():
    """A NIfTI volume's slices were each scored as the folder's class (most slices of a glioma patient's volume show
    no tumour), and a DICOM series found in a folder, recorded under that folder, counted as a class of its own."""
    done = score([record("ext/glioma/a.png", "glioma"),
                  *(record("ext/glioma/head.nii.gz", "notumor", slice=k) for k in range(3)),
                  {"path": "ext/glioma/head.nii.gz", "summary": {"kind": "nifti", "slices": 3}},  # --summary
                  record("ext", "glioma", series=0, dicom={"modality": "MR"}),
                  record("ext/glioma/IM0001.dcm", "glioma", dicom={"modality": "MR"})])  # one DICOM slice: scored
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == ("not scored: 3 slices of 1 volume or series (not every slice of a volume shows its "
                        "folder's class; score single slices)")
    assert lines[1].startswith("not scored: 1 record in no folder named after a class (glioma, meningioma, "
                               "notumor, pituitary), e.g. ext; a DICOM series is recorded under the folder")
    assert lines[2:] == ["accuracy 2/2 = 100.00 %  (0 unreadable)",
                         "0 not classified (unlike brain MRI); answered correctly (not classified counts as wrong): "
                         "2/2 = 100.00 %",
                         "  glioma      recall 2/2 = 100.00 %"]


def test_text_that_is_not_jsonl_gets_a_one_line_error_not_a_traceback():
    """predict's table piped in (no --format jsonl) ended in a JSONDecodeError traceback; a --summary line in a
    KeyError on 'probabilities'."""
    done = score(["path                                   label       confidence"])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: line 1 is not a record of 'braintumor predict --format jsonl': 'path ")
    done = score([record("ext/x.png", "glioma")])
    assert done.returncode == 2 and "no predictions to score (see above)" in done.stderr
    assert "not scored: 1 record in no folder named after a class" in done.stdout


def _module():
    spec = importlib.util.spec_from_file_location("score_jsonl", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_scripts_folder_names_are_the_packages():
    module = _module()
    assert module.FOLDER_ALIASES == FOLDER_ALIASES
    assert module.TURN_ADVICE == TURN_ADVICE


def test_the_scripts_counts_are_said_in_the_packages_words():
    """The script said "refused as unlike brain MRI: 36" and "(errors: 0)" after the CLI, the page and evaluate came
    to say "36 not classified (unlike brain MRI)", "... (turned: rotate upright and resend)" and "0 unreadable": its
    copies of braintumor.wording's phrases are kept equal to them here, and its output uses them."""
    module = _module()
    assert (module.UNLIKE_MRI, module.UNREADABLE, module.TURNED_RESEND) == (UNLIKE_MRI, UNREADABLE, TURNED_RESEND)
    for refused, side in [(0, 0), (1, 0), (3, 1), (2, 2), (45, 9)]:
        assert module.refusals_text(refused, side) == refusals_text(refused, side)
    done = score([record("ext/glioma/a.png", "glioma"), {"path": "ext/glioma/b.png", "error": "truncated"},
                  *(record(f"ext/notumor/{k}.png", "glioma", ood=True, reason=f"turned; {TURN_ADVICE}")
                    for k in range(2))])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        f"accuracy 1/4 = 25.00 %  (1 {UNREADABLE})",
        f"{refusals_text(2, 2)}; answered correctly (not classified counts as wrong): 1/4 = 25.00 %"]


def test_the_scripts_counts_take_the_number_of_their_count():
    """It said "1 records" and "1 volumes or series": its copy of braintumor.wording.counted is kept equal to it, and
    two of each read in the plural."""
    module = _module()
    for n in (0, 1, 2):
        assert module.counted(n, "record") == counted(n, "record")
        assert module.counted(n, "series", "series") == counted(n, "series", "series")
    done = score([*(record("ext/glioma/head.nii.gz", "notumor", slice=k) for k in range(2)),
                  *(record("ext/glioma/b.nii.gz", "notumor", slice=k) for k in range(2)),
                  record("ext/x.png", "glioma"), record("ext/y.png", "glioma"), record("ext/glioma/a.png", "glioma")])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("not scored: 4 slices of 2 volumes or series (")
    assert "\nnot scored: 2 records in no folder named after a class" in done.stdout


def test_refusals_as_on_their_side_are_counted_apart():
    """A slice the orientation check refused was counted "refused as not brain MRI": it is one, to be turned."""
    done = score([record("ext/glioma/a.png", "glioma"),
                  record("ext/glioma/b.png", "glioma", ood=True, reason="far"),
                  record("ext/glioma/c.png", "glioma", ood=True, reason=f"it looks turned 90 degrees; {TURN_ADVICE}")])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == ("1 not classified (unlike brain MRI), 1 not classified (turned: "
                                           "rotate upright and resend); answered correctly (not classified counts as "
                                           "wrong): 1/3 = 33.33 %")


def test_jsonl_files_named_as_arguments_are_scored_as_standard_input_is(tmp_path):
    """``braintumor predict DATA -o out.jsonl`` then ``python scripts/score_jsonl.py out.jsonl``: the file was
    ignored (from a terminal the usage was printed, exit 0; from a script standard input was read, "no predictions
    to score read")."""
    lines = [record("t/glioma/a.png", "glioma"), record("t/notumor/b.png", "glioma"),
             record("t/pituitary/c.png", "pituitary", ood=True)]
    first, second = tmp_path / "out.jsonl", tmp_path / "more.jsonl"
    first.write_text("".join(json.dumps(rec) + "\n" for rec in lines[:2]))
    second.write_text(json.dumps(lines[2]) + "\n")
    piped = score(lines)
    named = subprocess.run([sys.executable, str(SCRIPT), str(first), str(second)], input="", capture_output=True,
                           text=True, timeout=60)
    assert piped.returncode == named.returncode == 0 and named.stdout == piped.stdout and named.stderr == ""
    assert named.stdout.startswith("accuracy 2/3 = 66.67 %")
    stdin_too = subprocess.run([sys.executable, str(SCRIPT), str(first), "-"], input=second.read_text(),
                               capture_output=True, text=True, timeout=60)
    assert stdin_too.stdout == piped.stdout
    (tmp_path / "notes.jsonl").write_text("hello\n")
    for args, said in ((["--foo"], "error: unknown option --foo: "),
                       ([str(tmp_path / "none.jsonl")], f"error: cannot read {tmp_path / 'none.jsonl'}: "),
                       ([str(first), str(tmp_path / "notes.jsonl")],
                        f"error: {tmp_path / 'notes.jsonl'}, line 1 is not a record of 'braintumor predict")):
        done = subprocess.run([sys.executable, str(SCRIPT), *args], input="", capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2 and done.stdout == "" and done.stderr.startswith(said), done.stderr
        assert done.stderr.count("\n") == 1


def test_a_reader_that_leaves_first_gets_no_traceback():
    """``... | python scripts/score_jsonl.py | head -0``: the reader left before the counts were written, and the script
    printed a BrokenPipeError traceback (code 1) where braintumor's CLI leaves quietly (cli_run)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    try:
        line = json.dumps(record("a/glioma/x.png", "glioma")) + "\n"
        done = subprocess.run([sys.executable, str(SCRIPT)], input=line, stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")
