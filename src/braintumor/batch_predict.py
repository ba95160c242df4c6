"""Scoring large trees with ``braintumor predict``: ``--workers N`` and ``--resume``.

Inputs are planned lazily (``plan_inputs`` is a generator that lists one folder's file names at
a time) and cut into units: runs of up to ``--batch-size`` image paths, one volume (DICOM, NIfTI,
zip), or a ready error record. With ``--workers N`` the units go to N *spawned* processes, each
with its own ONNX Runtime session (not fork, nor forkserver whose server would import this
package through ``__main__``: onnxruntime starts threads at import, see serve.py); they come back in input order
through a window of at most ``2 * N`` units in flight, so memory stays bounded however many
files there are. (``Pool.imap`` would keep the order but its feeder thread drains the whole
input generator up front.) Image runs are batched exactly as one process batches them.

``--resume`` (with ``-o FILE``, jsonl or csv) appends to FILE as results arrive, flushing each
record, instead of writing FILE at the end; a rerun skips every input whose record ``path`` is
already in FILE (errors included: a broken file stays broken). What a
crash can leave behind is repaired first, by rewriting FILE without it (temp file + rename):
a last line cut short, and the records of a multi-slice input that has fewer records than slices.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from .image_io import ImageError
from .predictor import Classifier
from .series import input_records
from .volume_io import VolumeInput, plan_inputs, read_volumes

#: A unit of work: image paths (one batch), a volume's path, or a record that needs no model.
Unit = list | str | dict

_worker: dict = {}


class Previous:
    """What an earlier (maybe interrupted) run left in the output file."""

    def __init__(self) -> None:
        self.done: Counter[str] = Counter()  # record paths already written (a path may repeat)
        self.failed = 0
        self.header = False  # csv: the header line is there


def batch_requested(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "resume", False)) or getattr(args, "workers", 1) != 1


def check_args(args: argparse.Namespace) -> None:
    from .cli import UsageError

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.resume and not args.output:
        raise UsageError("--resume needs -o FILE (the file to continue)")
    if args.resume and args.format not in ("jsonl", "csv"):
        raise UsageError("--resume works with --format jsonl or csv (json and table cannot be appended to)")


# ---- resume: read and repair the existing output ----------------------------------------------

def _csv_header(classes: tuple[str, ...]) -> list[str]:
    """The header the csv formatter writes (asked of it, so the two can never disagree)."""
    from .predict_cli import _Formatter

    buf = io.StringIO()
    _Formatter("csv", buf, classes, 0)
    return next(csv.reader(io.StringIO(buf.getvalue())))


def _parse(line: bytes, n: int, fmt: str, header: list[str], target: Path) -> dict:
    from .cli import UsageError

    bad = UsageError(f"cannot resume: line {n} of {target} is not a {fmt} record of 'braintumor predict' "
                     f"(another file? remove it or choose another -o)")
    try:
        text = line.decode("utf-8")
        if fmt == "jsonl":
            rec = json.loads(text)
        else:
            row = next(csv.reader([text]))
            if len(row) != len(header):
                raise ValueError
            rec = {k: v for k, v in zip(header, row, strict=True) if v != ""}
            if rec.pop("ood", "") == "True":
                rec.pop("error", None)  # that column holds a refusal's reason: not a failure
    except (UnicodeDecodeError, ValueError, StopIteration):
        raise bad from None
    if not isinstance(rec, dict) or not isinstance(rec.get("path"), str):
        raise bad
    return rec


def read_previous(target: Path, fmt: str, classes: tuple[str, ...]) -> Previous:
    """Records already in ``target``, after cutting off what an interruption may have left unfinished."""
    from .cli import UsageError

    prev = Previous()
    if not target.exists():
        return prev
    header = _csv_header(classes)
    keep = 0  # bytes of the file that stay
    tail: list[dict] = []  # records of the last input, while it may be an unfinished multi-slice one
    tail_start = 0
    with open(target, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.endswith(b"\n"):
                print(f"{target}: dropping an incomplete last line (interrupted run); it is redone", file=sys.stderr)
                break
            if fmt == "csv" and n == 1:
                if next(csv.reader([line.decode("utf-8", "replace")]), None) != header:
                    raise UsageError(f"cannot resume: {target} has another csv header (another model or format?)")
                prev.header, keep, tail_start = True, len(line), len(line)
                continue
            rec = _parse(line, n, fmt, header, target)
            if tail and (rec["path"] != tail[0]["path"] or "summary" in rec):
                tail = []  # the previous input is complete: a new one started (or its summary came)
                tail_start = keep
            if "summary" not in rec:
                tail.append(rec)
            else:
                tail_start = keep + len(line)
            prev.done[rec["path"]] += 1
            prev.failed += "error" in rec and "summary" not in rec
            keep += len(line)
    if any("slice" in r or "series" in r for r in tail) and len(tail) != _slice_count(tail[0]["path"]):
        print(f"{target}: the last multi-slice input ({tail[0]['path']}) is unfinished; it is redone",
              file=sys.stderr)
        prev.done[tail[0]["path"]] -= len(tail)
        prev.failed -= sum("error" in r for r in tail)
        keep = tail_start
    if keep < target.stat().st_size:
        _rewrite_prefix(target, keep)
    return prev


def _slice_count(path: str) -> int | None:
    """How many records a volume gives (one per slice); read again, without running the model."""
    try:
        return sum(len(v.slices) for v in read_volumes(path))
    except (ImageError, OSError):
        return None


def _rewrite_prefix(target: Path, size: int) -> None:
    """Keep the first ``size`` bytes of ``target``; atomically, so a crash now loses nothing."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with open(fd, "wb") as out, open(target, "rb") as src:
            left = size
            while left:
                block = src.read(min(left, 1 << 20))
                out.write(block)
                left -= len(block)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def append_sink(output: str) -> Iterator[TextIO]:
    """The output file opened for appending: what was written survives a crash, for the next --resume."""
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "a", encoding="utf-8", newline="") as fh:
        yield fh


# ---- planning and scoring -----------------------------------------------------------------------

def _take(done: Counter, key: str, whole: bool = False) -> bool:
    """True (and forget it) when ``key`` was already written; ``whole``: all its records at once."""
    if done[key] <= 0:
        return False
    done[key] = 0 if whole else done[key] - 1
    return True


def plan_units(paths: Iterable[str], batch_size: int, done: Counter | None = None) -> Iterator[Unit]:
    """The inputs as units of work, in order, lazily; inputs already in ``done`` are left out."""
    done = done if done is not None else Counter()
    images: list[str] = []
    for item in plan_inputs(paths):
        if isinstance(item, Path):
            if not _take(done, str(item)):
                images.append(str(item))
                if len(images) >= batch_size:
                    yield images
                    images = []
            continue
        if images:
            yield images
            images = []
        if isinstance(item, dict):
            if not _take(done, item["path"]):
                yield item
        elif isinstance(item, VolumeInput) and not _take(done, item.path, whole=True):
            yield item.path
    if images:
        yield images


def score_unit(clf: Classifier, unit: Unit, batch_size: int, summaries: bool, pixels: bool) -> list[dict]:
    """The records of one unit: exactly what ``records()`` yields for the same inputs."""
    if isinstance(unit, dict):
        return [unit]
    # a volume is re-planned from its path, so no unpicklable loader has to cross processes
    items = [VolumeInput(unit, lambda: read_volumes(unit))] if isinstance(unit, str) else [Path(p) for p in unit]
    return list(input_records(clf, items, batch_size, summaries, pixels))


def _exit_with(parent: int) -> None:
    """A worker whose parent was killed would wait forever on the task queue: it leaves too."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker(model: str, threads: int, batch_size: int, summaries: bool, pixels: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    _worker.update(clf=Classifier.load(model, threads=threads), args=(batch_size, summaries, pixels))


def _work(unit: Unit) -> list[dict]:
    return score_unit(_worker["clf"], unit, *_worker["args"])


def in_order(units: Iterable[Unit], workers: int, model: str, threads: int, batch_size: int,
             summaries: bool, pixels: bool) -> Iterator[dict]:
    """Records of ``units`` scored by ``workers`` processes, in input order, at most 2 x workers units ahead."""
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(model, threads, batch_size, summaries, pixels))
    window: deque[Future | dict] = deque()
    try:
        for unit in units:
            window.append(unit if isinstance(unit, dict) else pool.submit(_work, unit))
            while window and (len(window) > 2 * workers or not isinstance(window[0], Future) or window[0].done()):
                head = window.popleft()
                yield from head.result() if isinstance(head, Future) else [head]
        while window:
            head = window.popleft()
            yield from head.result() if isinstance(head, Future) else [head]
    finally:
        for f in window:
            if isinstance(f, Future):
                f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


class BatchJob:
    """A ``predict`` run with --workers and/or --resume: where records go and where they come from."""

    def __init__(self, args: argparse.Namespace, clf: Classifier) -> None:
        check_args(args)
        self.args, self.clf = args, clf
        self.prev = read_previous(Path(args.output), args.format, clf.classes) if args.resume else Previous()
        if args.resume and self.prev.done:
            print(f"resuming {args.output}: {sum(self.prev.done.values())} record(s) already there", file=sys.stderr)

    @property
    def has_header(self) -> bool:
        """The csv file being continued already starts with its header."""
        return self.prev.header

    @property
    def failed_before(self) -> int:
        return self.prev.failed

    def sink(self) -> AbstractContextManager[TextIO]:
        from .predict_cli import _sink

        return append_sink(self.args.output) if self.args.resume else _sink(self.args.output)

    def seed_heatmap_names(self, heatmaps) -> None:
        """Overlays from the interrupted run keep their files: new ones get new names."""
        if heatmaps is not None and self.args.resume:
            heatmaps.used.update(p.name.lower() for p in heatmaps.folder.glob("*.heatmap.png"))

    def records(self, summaries: bool, pixels: bool) -> Iterator[dict]:
        a = self.args
        units = plan_units(a.paths, a.batch_size, self.prev.done)
        show = a.progress if a.progress is not None else sys.stderr.isatty()
        with tqdm(unit="rec", disable=not show, file=sys.stderr) as bar:
            if a.workers == 1:
                stream = (r for u in units for r in score_unit(self.clf, u, a.batch_size, summaries, pixels))
            else:
                threads = a.threads or max(1, (os.cpu_count() or 1) // a.workers)
                stream = in_order(units, a.workers, str(self.clf.path), threads, a.batch_size, summaries, pixels)
            new = 0
            try:
                for rec in stream:
                    new += 1
                    bar.update(1)
                    yield rec
                if a.resume and not new:
                    print(f"nothing left to do: every input is already in {a.output}", file=sys.stderr)
            except BrokenProcessPool:
                from .cli import UsageError

                raise UsageError("a worker process stopped unexpectedly (out of memory?)"
                                 + ("; run again to continue" if a.resume else "")) from None
