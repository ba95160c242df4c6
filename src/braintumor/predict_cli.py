"""``braintumor predict``: stream results for files and folders in four formats.

The jsonl record is a contract later tools rely on::

    {"path": ..., "label": "glioma", "confidence": 0.97, "probabilities": {...}}
    {"path": ..., "error": "..."}

With ``--heatmap OUT_DIR`` each classified image also gets a class-activation overlay PNG,
named after the input (``scan.heatmap.png``, then ``scan-2.heatmap.png`` for a second ``scan``),
and its record gains ``"heatmap": <that file>``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from .classes import display_name
from .image_io import ImageError, walk_images
from .predictor import Classifier, ModelError


def records(clf: Classifier, paths: list[str], batch_size: int = 32,
            progress: bool | None = None) -> Iterator[dict]:
    """One result dict per input image (folders expanded), in input order."""
    sources: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = list(walk_images(path))
            if not found:
                yield {"path": str(path), "error": "no images found in folder"}
            sources.extend(found)
        else:
            sources.append(path)
    show = progress if progress is not None else (len(sources) >= 50 and sys.stderr.isatty())
    with tqdm(total=len(sources), unit="img", disable=not show, file=sys.stderr) as bar:
        for src, outcome in clf.predict_many(sources, batch_size=batch_size):
            bar.update(1)
            if isinstance(outcome, ImageError):
                yield {"path": str(src), "error": str(outcome)}
            else:
                yield {"path": str(src), **outcome.to_dict()}


class _Formatter:
    """Writes records to a text stream in one of the output formats, streaming where it can."""

    def __init__(self, fmt: str, out: TextIO, classes: tuple[str, ...], width: int) -> None:
        self.fmt, self.out, self.classes, self.width = fmt, out, classes, width
        self.buffer: list[dict] = []
        if fmt == "csv":
            self.csv = csv.writer(out, lineterminator="\n")
            self.csv.writerow(["path", "label", "confidence", *self.classes, "error"])
        elif fmt == "table":
            out.write(f"{'path':<{width}}  {'prediction':<11} {'confidence':>10}\n")

    def write(self, rec: dict) -> None:
        if self.fmt == "jsonl":
            self.out.write(json.dumps(rec) + "\n")
        elif self.fmt == "json":
            self.buffer.append(rec)
        elif self.fmt == "csv":
            probs = rec.get("probabilities", {})
            self.csv.writerow([rec["path"], rec.get("label", ""), rec.get("confidence", ""),
                               *(probs.get(c, "") for c in self.classes), rec.get("error", "")])
        elif "error" in rec:
            self.out.write(f"{rec['path']:<{self.width}}  error: {rec['error']}\n")
        else:
            label = display_name(rec["label"])
            self.out.write(f"{rec['path']:<{self.width}}  {label:<11} {rec['confidence'] * 100:>9.1f}%\n")
        if self.fmt != "json":
            self.out.flush()

    def close(self) -> None:
        if self.fmt == "json":
            json.dump(self.buffer, self.out, indent=2)
            self.out.write("\n")


@contextmanager
def _sink(output: str | None) -> Iterator[TextIO]:
    """stdout, or a file that only appears, complete, when everything was written."""
    if not output:
        yield sys.stdout
        return
    target = Path(output)
    if target.exists() and not target.is_file() and not target.is_dir():  # /dev/null, a FIFO: write through
        with open(target, "w", encoding="utf-8", newline="") as fh:
            yield fh
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _HeatmapWriter:
    """One overlay PNG per classified input in ``folder``; same-named inputs never share a file."""

    def __init__(self, clf: Classifier, folder: str) -> None:
        from .heatmap import supports_cam

        if not supports_cam(clf):
            raise ModelError("this model has no CAM head in its metadata: re-export it to draw heat maps")
        self.clf, self.folder, self.used = clf, Path(folder), set()
        self.folder.mkdir(parents=True, exist_ok=True)

    def _name(self, source: str) -> Path:
        stem, n = Path(source).stem or "image", 1
        while True:
            name = f"{stem}.heatmap.png" if n == 1 else f"{stem}-{n}.heatmap.png"
            if name.lower() not in self.used:  # lower: case-insensitive file systems
                self.used.add(name.lower())
                return self.folder / name
            n += 1

    def write(self, rec: dict) -> None:
        from .heatmap import explain

        png = explain(self.clf, rec["path"]).heatmap_png()
        target = self._name(rec["path"])
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=self.folder)
        try:
            with open(fd, "wb") as fh:
                fh.write(png)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        rec["heatmap"] = str(target)


def run_predict(args: argparse.Namespace) -> int:
    """Exit code 0 when every input was classified, 1 when any failed."""
    clf = Classifier.load(args.model, threads=args.threads)
    heatmaps = _HeatmapWriter(clf, args.heatmap) if getattr(args, "heatmap", None) else None
    width = min(60, max([len(str(p)) for p in args.paths] + [20]))
    failed = 0
    with _sink(args.output) as out:
        fmt = _Formatter(args.format, out, clf.classes, width)
        for rec in records(clf, args.paths, args.batch_size, args.progress):
            failed += "error" in rec
            if heatmaps and "error" not in rec:
                heatmaps.write(rec)
            fmt.write(rec)
        fmt.close()
    if failed:
        print(f"{failed} input(s) could not be classified", file=sys.stderr)
    return 1 if failed else 0
