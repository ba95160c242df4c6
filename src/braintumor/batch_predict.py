"""Scoring large trees with ``braintumor predict``: ``--workers N`` and ``--resume``.

Inputs are planned lazily (``plan_inputs`` is a generator that lists one folder's file names at
a time) and cut into units: runs of up to ``--batch-size`` image paths, one volume (DICOM, NIfTI,
zip), or a ready error record. With ``--workers N`` the units go to N spawned processes
(:mod:`braintumor.batch_workers`) and come back in input order, memory bounded however many files there are.
Image runs are batched exactly as one process batches them.

``--resume`` (with ``-o FILE``, jsonl or csv) appends to FILE as results arrive, flushing each
record, instead of writing FILE at the end; a rerun skips every input whose record ``path`` is
already in FILE (errors included: a broken file stays broken), but for those the model failed on (scores not finite:
the model file's fault), which are dropped from FILE and redone. What a
crash can leave behind is repaired first, by rewriting FILE without it (temp file + rename):
a last line cut short, and the records of a multi-slice input that has fewer records than slices
(:mod:`braintumor.batch_resume`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from .batch_resume import Previous, append_sink, read_previous
from .batch_workers import ListedName, Unit, score_unit, units_in_order
from .cpu_quota import default_threads
from .csv_records import csv_columns
from .exit_errors import RunFailed, UsageError
from .file_names import os_text, utf8_text
from .heatmap_files import drop_maps
from .image_files import IMAGE_EXTENSIONS, ListedFile
from .image_io import ImageError
from .input_plan import VolumeInput, plan_inputs
from .predict_output import HEATMAP_KEY, heatmap_column, output_sink
from .predict_progress import InputBar, input_count, started
from .predictor import Classifier
from .processes import model_digest
from .resume_folders import ROOT_KEY, check_working_folder, maps_root, resume_root, with_root
from .resume_members import Members
from .wording import counted, printable


def batch_requested(args: argparse.Namespace) -> bool:
    """Whether a ``predict`` run needs this module: ``--resume`` or ``--workers`` other than 1."""
    return bool(getattr(args, "resume", False)) or getattr(args, "workers", 1) != 1


def check_args(args: argparse.Namespace) -> None:
    """Refuse (UsageError) the option combinations --resume cannot honour, before any work."""
    if args.resume and not args.output:
        raise UsageError("--resume needs -o FILE (the file to continue)")
    if args.resume and args.format not in ("jsonl", "csv"):
        raise UsageError("--resume works with --format jsonl or csv (json and table cannot be appended to)")


# ---- planning -----------------------------------------------------------------------------------

def resume_key(name: str) -> str:
    """The key by which --resume knows an input again: its absolute name, as UTF-8 reads it
    (:func:`~braintumor.file_names.utf8_text`: the file holds names so, whatever the locale). Records keep the name
    as given, so ``predict scans -o r.jsonl`` resumed as ``predict /data/scans`` (or ``scans/``, ``./scans``)
    matched none of them and appended every input a second time. FILE's relative names are taken from this working
    folder too: one written from another is refused (:func:`~braintumor.resume_folders.check_working_folder`)."""
    return utf8_text(os.path.abspath(name))


def _take(done: Counter, key: str, whole: bool = False) -> bool:
    """True (and forget it) when ``key`` was already written (``done`` is keyed by :func:`resume_key`);
    ``whole``: all its records at once."""
    key = resume_key(key)
    if done[key] <= 0:
        return False
    done[key] = 0 if whole else done[key] - 1
    return True


def unit_inputs(unit: Unit) -> int:
    """How many inputs a unit holds (what the progress bar counts): its images, else one (a scan, however many
    series and slice records it gives, or an error record)."""
    return len(unit) if isinstance(unit, list) else 1


def plan_units(paths: Iterable[str], batch_size: int, done: Counter | None = None,
               on_note: Callable[[str], None] | None = None, planned: Iterable | None = None,
               on_skip: Callable[[], object] | None = None) -> Iterator[Unit]:
    """The inputs as units of work, in order, lazily; inputs already in ``done`` are left out (``on_skip`` is called
    for each); ``on_note``: see :func:`~braintumor.input_plan.plan_inputs`; ``planned``: what ``plan_inputs(paths)``
    gave, where it was listed already. A zip whose records are all its NIfTI members' (``zip:member``, none under
    the zip's own name) is known by them (those its listing holds: :mod:`~braintumor.resume_members`): it was scored
    again, and its records written again, at each --resume."""
    keyed: Counter = Counter()
    members: set[str] = set()  # the keys of the zips records were written for as "zip:member" (resume_members)
    listings = Members()
    for name, n in (done or {}).items():  # the file's names, as the earlier run was given them
        keyed[resume_key(name)] += n
        if ":" in name and n > 0 and (of := listings.input_of(name)) != name:
            members.add(resume_key(of))
    done = keyed

    def taken(key: str, whole: bool = False) -> bool:
        if not _take(done, key, whole):
            return False
        if on_skip is not None:
            on_skip()
        return True

    images: list[str] = []
    for item in plan_inputs(paths, on_note) if planned is None else planned:
        if isinstance(item, Path):
            if not taken(str(item)):
                images.append(ListedName(item) if isinstance(item, ListedFile) else str(item))
                if len(images) >= batch_size:
                    yield images
                    images = []
            continue
        if images:
            yield images
            images = []
        if isinstance(item, dict):
            if not taken(item["path"]):
                yield item
        elif isinstance(item, VolumeInput) and not taken(item.path, whole=True):
            if resume_key(item.path) not in members:
                yield item.path
            elif on_skip is not None:
                on_skip()
    if images:
        yield images



def check_same_model(output: str, prev: Previous, clf: Classifier) -> None:
    """Warn where the continued file's first classified image (:attr:`Previous.sample`) scores otherwise now: resumed
    with another ``--model`` (or ``$BRAINTUMOR_MODEL``), a run appended its answers to the first model's without a
    word, one file of two models' answers. The same model gives the same numbers but for float noise (a batch's
    composition, the CPU) and the file's rounding, far inside these bounds; the int8 copy's differ past them."""
    rec = prev.sample
    name = os_text(rec["path"]) if rec else ""
    if not rec or Path(name).suffix.lower() not in IMAGE_EXTENSIONS or not os.path.isfile(name):
        return
    try:
        now = clf.predict(name)
        was = {c: float((rec.get("probabilities") or rec)[c]) for c in clf.classes}  # jsonl's dict, csv's columns
        score = float(rec["ood_score"]) if rec.get("ood_score") not in (None, "") else None
    except (ImageError, OSError, KeyError, TypeError, ValueError):  # gone, changed, or of other classes: said later
        return
    p = now.probabilities
    same = now.label == rec["label"] and all(abs(was[c] - p[c]) <= 1e-6 + 0.02 * max(was[c], p[c]) for c in p) \
        and (score is None or now.ood_score is None or abs(score - now.ood_score) <= 0.002)
    if same:
        return
    print(printable(f"warning: {output} may hold another model's answers: {rec['path']} is {rec['label']} "
                    f"{was[rec['label']]:.6f} (ood_score {score}) there, and {now.label} "
                    f"{now.probabilities[now.label or rec['label']]:.6f} (ood_score {now.ood_score}) with "
                    f"{clf.path.name if clf.path else 'this model'} now (unless the file changed since): continue "
                    "with the model that began it (--model; $BRAINTUMOR_MODEL), or write to a new file"),
          file=sys.stderr)


class BatchJob:
    """A ``predict`` run with --workers and/or --resume: where records go and where they come from."""

    def __init__(self, args: argparse.Namespace, clf: Classifier) -> None:
        check_args(args)
        self.args, self.clf = args, clf
        summaries = bool(getattr(args, "summary", False)) and args.format == "jsonl"  # csv files hold none
        target = Path(args.output) if args.resume else None  # refused from another working folder before repaired
        self.prev = read_previous(target, args.format, clf.classes, summaries,
                                  lambda prev: check_working_folder(target, prev)) if target else Previous()
        if args.resume:
            drop_maps(self.prev.maps, getattr(args, "heatmap", None), args.output)  # drawn again under their names
        # what records say of their folder (without --resume: a relative --heatmap DIR's, for a later --resume)
        self.root = resume_root(args.format, self.prev) if args.resume else maps_root(args)
        if args.resume and +self.prev.done:  # (a count that records dropped to redo took back to 0 is none)
            print(f"resuming {printable(args.output)}: {counted(sum(self.prev.done.values()), 'record')} already there",
                  file=sys.stderr)
            check_same_model(args.output, self.prev, clf)
        if heatmap_column(args) and self.prev.header and HEATMAP_KEY not in self.prev.columns:  # its rows line up
            print(f"warning: {printable(args.output)} has no {HEATMAP_KEY} column (begun without --heatmap, or by an "
                  "older braintumor): the rows added now do not name their heat maps; write to a new file to have "
                  "them named", file=sys.stderr)  # silent, the maps could not be matched to the rows (x-2.heatmap.png)

    @property
    def has_header(self) -> bool:
        """The csv file being continued already starts with its header."""
        return self.prev.header

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """The csv columns after the usual ones: each row's heat map (--heatmap), the working folder of a --resume
        run's relative names; a continued file's own (rows appended in other columns would not line up)."""
        if self.args.format != "csv":
            return ()
        if self.prev.header:
            return tuple(self.prev.columns[len(csv_columns(self.clf.classes)):])
        return heatmap_column(self.args) + ((ROOT_KEY,) if self.root is not None else ())

    @property
    def failed_before(self) -> Counter[str]:
        """Error records the continued file already holds, by what was not read (inputs, slices: series.unread_part):
        they count in the run's failures and exit status."""
        return +self.prev.failed  # (a count the unfinished last scan took back to 0 dropped)

    def sink(self) -> AbstractContextManager[TextIO]:
        """Where records go: appended to -o FILE with --resume, else as a plain run writes them."""
        return append_sink(self.args.output) if self.args.resume else output_sink(self.args.output)

    def records(self, summaries: bool, pixels: bool, on_plan: Callable[[list], None] | None = None) -> Iterator[dict]:
        """The run's records in input order, with a progress bar; inputs already in the continued file left out.
        ``on_plan``: gets the planned inputs before the first record (the table's columns): the inputs are then listed
        up front, as a run without --workers lists them; else lazily, a folder at a time (a tree of millions)."""
        a = self.args

        def note(text: str) -> None:  # above the bar
            tqdm.write(text, file=sys.stderr)

        planned, maps_relative = None, bool(getattr(a, "heatmap", None)) and not os.path.isabs(a.heatmap)
        if on_plan is not None:
            planned = list(plan_inputs(a.paths, note))
            on_plan(planned)
        bar = InputBar(a.progress, input_count(a.paths, planned))
        units = plan_units(a.paths, a.batch_size, self.prev.done, on_note=note, planned=planned, on_skip=bar.skipped)
        try:
            if a.workers == 1:
                scored = ((u, score_unit(self.clf, u, a.batch_size, summaries, pixels)) for u in started(units, bar))
            else:
                threads = a.threads or default_threads(a.workers)
                scored = units_in_order(started(units, bar), a.workers, str(self.clf.path), threads, a.batch_size,
                                        summaries, pixels, model_digest(self.clf))
            new = 0
            try:
                for unit, recs in scored:
                    for rec in recs:
                        new += 1
                        yield with_root(rec, self.root, maps_relative)
                    bar.update(unit_inputs(unit))
                if a.resume and not new:
                    print(f"nothing left to do: every input is already in {printable(a.output)}", file=sys.stderr)
            except BrokenProcessPool:
                raise RunFailed("a worker process stopped unexpectedly (out of memory?)"
                                + ("; run again to continue" if a.resume else "")) from None
        finally:
            bar.close()

