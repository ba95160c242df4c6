"""``braintumor data check | audit | download``: look at a dataset before training on it."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from .data import DatasetError, load_dataset
from .evaluation_scope import dataset_notes
from .image_files import IMAGE_EXTENSIONS
from .image_io import MIN_SIDE, ImageError, decode_image
from .output_formats import FORMAT_BY_SUFFIX, OTHER_FORMATS, picture_ending
from .root_notes import root_notes
from .root_splits import dataset_splits
from .wording import (
    NO_COMMAND,
    command_word,
    counted,
    dataset_file_error,
    in_number,
    listed,
    pasteable,
    printable,
    size_text,
    too_small_text,
)

KAGGLE_DATASET = "masoudnickparvar/brain-tumor-mri-dataset"
MANUAL_STEPS = (
    f"download it by hand from https://www.kaggle.com/datasets/{KAGGLE_DATASET} and unzip it so that "
    "ROOT/Training/<class>/ and ROOT/Testing/<class>/ exist, then pass --data ROOT"
)


def check_dataset(root: str) -> int:
    """Print images per split and class, decode every file, and list the unreadable ones and those under
    ``MIN_SIDE`` (training reads them; predict and evaluate refuse them: "all images decode", then evaluate said
    "(4 unreadable, skipped)" of the same folder), naming the files left out as evaluate and train do."""
    splits = dataset_splits(root)
    bad = small = 0
    for split in splits:
        ds = load_dataset(root, split, allow_missing=True)  # a count, not training: missing classes show 0
        counts = ", ".join(f"{k} {v}" for k, v in ds.counts().items())
        print(f"{printable(split or str(ds.root))}: {counted(len(ds), 'image')} ({counts})")  # any folder's name
        for note in dataset_notes(ds):  # evaluate's and train's words: it said nothing of a g.gif or notes.txt
            print(printable(f"  {note}"))
        for name, note in ds.hidden.items():  # a class of .scan.png only: "meningioma 0" was all
            print(printable(f"  {name}: {note}"))
        for path in ds.paths:
            try:
                info = decode_image(path)[1]
            except ImageError as exc:
                bad += 1
                print(printable(f"  unreadable: {path}: {dataset_file_error(str(exc))}"))
                continue
            if info.width < MIN_SIDE or info.height < MIN_SIDE:  # as Classifier.inspect_crop refuses an image
                small += 1
                said = dataset_file_error(too_small_text(info.width, info.height, MIN_SIDE))  # not "send ..."
                print(printable(f"  too small: {path}: {said}"))
    notes = root_notes(root, splits)
    for note in notes:  # ROOT/glioma beside ROOT/Training, ROOT/Validation -> gone
        print(printable(note))
    said = [f"{counted(bad, 'unreadable image')}: {'it is' if bad == 1 else 'they are'} skipped in training"][:bad]
    them = "it" if small == 1 else "them"
    said += [f"{counted(small, 'image')} under {size_text(MIN_SIDE, MIN_SIDE)}: predict and evaluate refuse {them} "
             f"(training reads {them})"][:small]
    # the last line counts them too: "all images decode" alone, under a pipe's tail, hid images left out
    unread = [f"{counted(len(notes), 'entry', 'entries')} in {root} not read (the 'not read:' "
              f"{in_number(len(notes), 'line')} above)"][:len(notes)]
    print(printable("; ".join((said or ["all images decode"]) + unread)))
    return 1 if said else 0  # not-read entries are notes on what the check left out, not images that fail


def _counts(mapping: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in mapping.items())


def format_audit(report: dict, seconds: float | None = None) -> str:
    """The audit as a few readable lines (the JSON file has every group and pair)."""
    s = report["summary"]
    lines = [f"audit of {printable(report['root'])}: {report['hash']} {report['hash_bits']}-bit, near duplicate = "
             f"Hamming distance <= {report['threshold']}" + (f" ({seconds:.1f} s)" if seconds is not None else "")]
    # one split: nothing is across splits ("across splits 0" read as a finding), and a folder of class folders,
    # "all" in the JSON, is named as data check names it
    one = next(iter(report["splits"])) if len(report["splits"]) == 1 else None
    for split, st in report["splits"].items():
        lo, hi = (size_text(w, h) for w, h in (st["min_size"] or (0, 0), st["max_size"] or (0, 0)))
        size = f"size {lo}" if len(st["sizes"]) == 1 else f"{len(st['sizes'])} sizes, {lo} .. {hi}"
        shape = f"{size}; modes {_counts(st['modes'])}" if st["sizes"] else "no readable image"
        name = printable(report["root"] if split == "all" else split)  # a split: any folder's name
        bad = st["n_images"] - st["n_readable"]  # "12 images" counted 3 unreadable ones, said on a later line
        found = f"{counted(st['n_images'], 'file')} ({_counts(st['classes'])}), {bad} unreadable" if bad else \
            f"{counted(st['n_images'], 'image')} ({_counts(st['classes'])})"
        lines.append(f"{name}: {found}; {shape}")
    lines += [printable(note) for note in report.get("not_read", [])]  # ROOT/glioma beside the splits
    kinds = (("hidden_files", "hidden files (not data)"),
             ("not_images", f"not read as images ({', '.join(sorted(IMAGE_EXTENSIONS))} only)"),
             ("outside_class_folders", "images beside the class folders (no class, not audited)"),
             ("special_files", "pipes and devices (not read: reading one may never end)"))
    for key, title in kinds:  # the first five of each, "and N more" as every cut list says
        names = report.get(key, [])
        lines.append(f"{title}: {len(names)}" + (f": {printable(listed(names, 5))}" if names else ""))
    bad = report["unreadable"]
    lines.append(f"unreadable: {len(bad)}" + "".join(f"\n  {printable(u['path'])}: {printable(u['error'])}"
                                                     for u in bad[:10]))
    for key, title in (("exact_groups", "exact duplicate groups"), ("near_pairs", "near duplicate pairs")):
        lines.append(f"{title}: " + (str(s[key][one]) if one else ", ".join(
            f"{'across splits' if k == 'cross-split' else 'within ' + printable(k)} {v}" for k, v in s[key].items())))
    conflicts = s["label_conflicts"]
    lines.append(f"label conflicts (same image, different class): {counted(conflicts['exact'], 'exact group')}, "
                 f"{counted(conflicts['near'], 'near pair')}")
    if "leakage" in s:
        lk = s["leakage"]
        per = ", ".join(f"{c} {v['with_train_near_duplicate']}/{v['total']}" for c, v in lk["per_class"].items())
        lines.append(f"leakage: {lk['test_with_train_near_duplicate']} of {lk['test_readable']} Testing images have a "
                     f"near duplicate in Training ({lk['test_with_train_exact_duplicate']} pixel-identical): {per}")
        lines.append(f"leak-free Testing subset: {counted(lk['test_leak_free'], 'image')}")
    elif one != "all":  # splits, but not both: the headline was left out without a word
        lines.append(f"leakage: not computed: it looks for Testing images in Training, and {printable(report['root'])} "
                     f"holds {printable(', '.join(report['splits']))}" + _split_names_hint(list(report["splits"])))
    return "\n".join(lines)


def _split_names_hint(splits: list[str]) -> str:
    """Why splits of other names (``train/``, ``Test/``) give no leakage, or "": a split is Training or Testing by
    its folder's name alone (:func:`braintumor.data.split_folder`, every command's rule), and "it holds Test, Train"
    left the user to guess that those names were not recognised."""
    if not any(s not in ("Training", "Testing") and s.lower().startswith(("train", "test")) for s in splits):
        return ""  # Testing alone, Training and Validation: no split is there to be renamed
    missing = [name for name in ("Training", "Testing") if name not in splits]
    role = {"Training": "the training split", "Testing": "the test split"}.get(missing[0]) if len(missing) == 1 \
        else "the training and test splits"
    return (f"; only {'a folder' if len(missing) == 1 else 'folders'} named {' and '.join(missing)} (or "
            f"{' and '.join(m.lower() for m in missing)}) {'is' if len(missing) == 1 else 'are'} read as {role}: "
            "rename yours to compute it")


def audit_command(root: str, out: str | None, threshold: int, kind: str, progress: bool = True) -> int:
    """``braintumor data audit``: print the summary, write the full report as JSON (atomically)."""
    from tqdm import tqdm

    from .audit import audit_dataset
    from .file_names import utf8_document
    from .image_hashes import threshold_problem
    from .report import write_text_atomic

    if problem := threshold_problem("--threshold", threshold):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if problem := _not_json_name(out):
        print(printable(f"error: {problem}"), file=sys.stderr)
        return 2
    start = time.perf_counter()
    with tqdm(desc="audit", unit="img", file=sys.stderr, disable=not progress, dynamic_ncols=True) as bar:
        report = audit_dataset(root, threshold, kind, progress=bar.update)
    if out:  # written before the summary is printed: a reader that leaves the pipe early must not cost the report
        write_text_atomic(Path(out), json.dumps(utf8_document(report), indent=1) + "\n")
    print(format_audit(report, time.perf_counter() - start))
    if out:
        print(f"report: {printable(out)}")
    return 0


def _not_json_name(out: str | None) -> str | None:
    """Why ``--out`` is no name for the audit's JSON report, or None: its ending names another format (``audit.csv``,
    ``audit.xlsx``, ``audit.html``), which was given the JSON without a word, and a spreadsheet then misread it."""
    suffix = Path(out).suffix.lower() if out else ""
    what = picture_ending(out or "") or OTHER_FORMATS.get(suffix) or ("a CSV file" if suffix == ".csv" else None)
    if what is None and FORMAT_BY_SUFFIX.get(suffix) != "jsonl":
        return None
    return (f"--out {out}: its ending names {what or 'JSON lines'}, but the audit's report is one JSON document: "
            "name it .json")


def download_dataset(dest: str | None) -> int:
    """Fetch the Kaggle dataset with kagglehub; explain what to do instead when that fails."""
    try:
        import kagglehub
    except ImportError:
        print(f"error: kagglehub is not installed (pip install 'braintumor[download]'), or {MANUAL_STEPS}",
              file=sys.stderr)
        return 2
    try:
        path = Path(kagglehub.dataset_download(KAGGLE_DATASET))
    except Exception as exc:  # network, credentials, quota: all end the same way for the user
        print(f"error: could not download {KAGGLE_DATASET}" + (printable(f" ({exc})") if str(exc) else "") + ". "
              f"Offline or no Kaggle credentials? Otherwise {MANUAL_STEPS}", file=sys.stderr)
        return 2
    if dest:
        shutil.copytree(path, dest, dirs_exist_ok=True)
        path = Path(dest)
    try:
        load_dataset(path, "Training")
    except DatasetError as exc:
        print(printable(f"error: downloaded to {path} but the layout is unexpected: {exc}"), file=sys.stderr)
        return 2
    name = str(path)  # quoted to paste (a space made two arguments); none to paste where it cannot be shown as it is
    train = (f"train with: braintumor train --data {command_word(name)} --out runs/my-run" if pasteable(name) else
             f"train with braintumor train, its --data this folder ({NO_COMMAND})")
    print(printable(f"dataset ready at {path}"), train, sep="\n")
    return 0
