"""The heat maps of ``braintumor predict --heatmap DIR``: one PNG per classified input, each under a name of its own
(never one already in DIR), and removed again where the records that would name them were not written."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic_files import make_folder, settled, temp_beside
from .file_names import MAX_NAME_BYTES, clean_chars, fit_name, os_text, portable_name
from .image_files import is_special_file
from .model_files import ModelError
from .predict_output import HEATMAP_KEY
from .predictor import Classifier
from .stop_signals import signals_held
from .volume_objects import Slice
from .wording import counted, printable

if TYPE_CHECKING:
    from .heatmap import Explanation


def check_draws_maps(clf: Classifier) -> None:
    """Refuse (ModelError) a model that cannot draw heat maps (no CAM head), before a run changes anything: a --resume
    run had cut FILE's unfinished scan off and removed its maps first, and the run refused had lost them."""
    from .heatmap import supports_cam

    if not supports_cam(clf):
        raise ModelError("this model has no CAM head in its metadata: re-export it to draw heat maps")


def map_suffix(rec: dict) -> str:
    """What a heat map's name has after its input's: the series and slice of the record (``-series1-slice3``)."""
    return "".join(f"-{k}{rec[k]}" for k in ("series", "slice") if k in rec)


def map_name(source: str, suffix: str = "", n: int = 1) -> str:
    """The ``n``-th name of input ``source``'s heat map, ``suffix`` :func:`map_suffix`'s: named after the input, made
    portable (:func:`~braintumor.file_names.portable_name`: a zip member's bidi override or newline, the ``:`` of
    ``real.zip:x.nii`` and a ``con.jpg``'s device name would make a name that ls shows wrong or Windows cannot
    create), cut to fit (:func:`~braintumor.file_names.fit_name`: the slice and the ``-2`` stay); the records keep
    the input's name."""
    stem = clean_chars(Path(source).stem.removesuffix(".nii")) or "image"
    tail = f"{suffix}.heatmap.png" if n == 1 else f"{suffix}-{n}.heatmap.png"
    return portable_name(fit_name(stem, tail, MAX_NAME_BYTES - 1))  # - 1: room for a device name's _


def drawn_for(name: str, source: str, suffix: str) -> bool:
    """Whether ``name`` (a file's, without its folder) is a name :func:`map_name` gives input ``source``'s map."""
    again = re.search(r"-([0-9]+)\.heatmap\.png$", name)  # scan-slice3-2: the second of that name
    return name in {map_name(source, suffix), map_name(source, suffix, int(again[1]) if again else 1)}


class HeatmapWriter:
    """One overlay PNG per classified input in ``folder``; same-named inputs never share a file, nor replace one."""

    def __init__(self, clf: Classifier, folder: str, hold_signals: bool = False) -> None:
        """``hold_signals``: the PNG and its record land together or not at all (:meth:`write`); for records appended
        to a file (``--resume``), not for stdout, whose reader may hold a write (and so Ctrl-C) back for as long as it
        likes."""
        check_draws_maps(clf)
        self.clf, self.folder, self.hold_signals = clf, Path(folder), hold_signals
        # the maps already there keep their files (an earlier run's records name them): new ones get new names; listed
        # at the first map, not here: the folder is made before --resume repairs FILE, and the maps of the records it
        # drops, removed meanwhile, are drawn again under their names (not scan-slice0-2)
        self.used: set[str] | None = None
        self.drawn: list[Path] = []  # the PNGs put in place by this run
        self.named = 0  # of those, the first ones whose records are out (written, not held back): see the caller's
        # made here, the folder and those above it it needed (deepest first): removed by discard() when left empty
        self.made = list(itertools.takewhile(lambda p: not p.exists(), (self.folder, *self.folder.parents)))
        make_folder(self.folder)

    def discard(self, gone: Sequence[Path] = ()) -> None:
        """Remove the heat maps ``gone`` among those this run added (a run stopped before ``-o FILE`` was written,
        whole or not at all, left maps no record named), and the folders made for them when left empty (with none
        given, those alone: a --resume run stopped by a full disk before its first map left the empty folder it
        made)."""
        for path in gone:
            path.unlink(missing_ok=True)
        self.drawn = [path for path in self.drawn if path not in gone]
        with contextlib.suppress(OSError):  # not empty: what else is there stays, and the folders above it
            for folder in self.made:
                folder.rmdir()

    def _name(self, source: str, suffix: str = "") -> Path:
        """The first :func:`map_name` of the input not taken in the folder."""
        if self.used is None:
            self.used = {p.name.lower() for p in self.folder.glob("*.heatmap.png")}
        n = 1
        while True:
            name = map_name(source, suffix, n)
            if name.lower() not in self.used:  # lower: case-insensitive file systems
                self.used.add(name.lower())
                return self.folder / name
            n += 1

    def _place(self, tmp: str, target: Path, source: str, suffix: str) -> Path:
        """Put the map written to ``tmp`` under ``target``, or the next free name after it, and say which: another run
        writing to the folder at once, or since this one listed it, cannot take the same name, and neither replaces the
        other's map. A hard link takes the name with the map in it (a run killed outright then leaves no empty file
        under a map's name, kept by --resume beside its input's new map); a file system without links has the name
        made empty (O_EXCL) and the map moved onto it."""
        linked = True
        while True:
            self.drawn.append(target)  # (before: a signal may come right after the name is taken)
            try:
                if linked:
                    os.link(tmp, target)
                else:
                    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:
                self.drawn.pop()
                target = self._name(source, suffix)
                continue
            except OSError:
                self.drawn.pop()
                if not linked:
                    raise
                linked = False  # FAT, some network or FUSE file systems: no hard links
                continue
            if linked:
                os.unlink(tmp)
            else:
                os.replace(tmp, target)  # onto the empty file claimed: never another run's map
            return target

    def write(self, rec: dict, sl: Slice | None = None, explanation: Explanation | None = None,
              record: Callable[[dict], None] = lambda rec: None) -> None:
        """``sl``: a volume's slice (the record's path is then the whole volume), explained as it was classified;
        ``explanation``: the image's own, made with its record (the file is not read again: it may have changed);
        ``record``: writes ``rec`` (naming the PNG) once the PNG is in place. With ``hold_signals`` a stop signal waits
        from the PNG's placing to the record's end: one between them left a PNG no record named, which ``--resume`` kept
        and drew that input's again beside (``scan-2.heatmap.png``); a record that failed then takes its PNG with it."""
        from .heatmap import explain

        png = (explanation or explain(self.clf, rec["path"] if sl is None else sl)).heatmap_png()
        suffix = map_suffix(rec)
        target = self._name(rec["path"], suffix)
        fd, tmp = temp_beside(target)
        placed = recorded = False
        before = len(self.drawn)
        try:
            with open(fd, "wb") as fh:
                fh.write(png)
            with signals_held() if self.hold_signals else nullcontext():
                target = self._place(tmp, target, rec["path"], suffix)
                settled(tmp)
                placed, rec[HEATMAP_KEY] = True, str(target)  # the csv column of that name too
                record(rec)
                recorded = True
        except BaseException as exc:
            if placed:  # the record's own failure, or a signal held back until both landed (recorded)
                if self.hold_signals and not recorded:  # no record names it (unheld, a signal may land after one did)
                    target.unlink(missing_ok=True)
                raise
            if len(self.drawn) > before and os.path.lexists(tmp):  # its name taken, the map not (or not only) there
                self.drawn.pop().unlink(missing_ok=True)
            Path(tmp).unlink(missing_ok=True)
            settled(tmp)
            if isinstance(exc, OSError):  # a failed write names no file, and the run then blamed -o (another disk)
                raise OSError(exc.errno, exc.strerror, str(target)) from None
            raise



def drop_maps(names: Iterable[tuple[str, str, str]], folder: str | None, output: str) -> None:
    """Remove the heat maps ``names`` that records a --resume run dropped to redo named, each (its name, the record's
    input, :func:`map_suffix`) (whole, or relative as the working folder their record says had them:
    :meth:`~braintumor.batch_resume.Previous.forget`): no record names
    them now, and where the run draws its maps in their ``folder`` the inputs' maps drawn again took other names
    beside them (``scan-slice0-2``); without --heatmap (``folder`` None) none is drawn again. Only a file of a heat
    map's name, never a link, and with --heatmap only one in its ``folder`` (one elsewhere, FILE begun with another
    DIR, is kept, and said), and only under a name drawn for the record's input (:func:`drawn_for`; another is kept,
    and said): a record edited by hand removes nothing else. A relative name whose record says no
    working folder (a file begun by an older braintumor) is kept, and said: taken from this working folder, it named
    another folder's map, which was removed."""
    removed: list[Path] = []
    elsewhere: list[Path] = []  # with --heatmap, maps of another folder (FILE begun with another DIR): kept, and said
    misnamed: list[Path] = []  # not a name drawn for the record's input (a record edited by hand?): kept, and said
    names = list(names)
    unknown = [name for name, _, _ in names if not Path(os_text(name)).is_absolute()]
    for name, source, suffix in names:
        path = Path(os_text(name))
        with contextlib.suppress(OSError):  # gone already, or the folder not there
            if path.is_absolute() and path.name.endswith(".heatmap.png") and not path.is_symlink() and path.is_file():
                if not drawn_for(os.path.basename(name), source, suffix):  # (as named when drawn: not os_text's)
                    misnamed.append(path)
                    continue
                if folder is not None and not (os.path.isdir(folder) and os.path.samefile(path.parent, folder)):
                    elsewhere.append(path)
                    continue
                path.unlink()
                removed.append(path)
    maps = counted(len(removed), "heat map")
    if removed and folder is not None:
        print(printable(f"{folder}: removed {maps} of the records dropped; they are drawn again"), file=sys.stderr)
    elif removed:
        print(printable(f"{output}: removed {maps} of the records dropped ({removed[0]}, for one): this run draws none "
                        "(no --heatmap)"), file=sys.stderr)
    if elsewhere:
        print(printable(f"warning: kept {counted(len(elsewhere), 'heat map')} of the records dropped ({elsewhere[0]}, "
                        f"for one): not in {folder}, where this run draws them again ({output} begun with another "
                        "--heatmap DIR?): remove them by hand"), file=sys.stderr)
    if misnamed:
        print(printable(f"warning: kept {counted(len(misnamed), 'heat map')} of the records dropped ({misnamed[0]}, "
                        f"for one): not the name of a map of the record's input (edited by hand?): remove them by hand "
                        "if nothing else names them"), file=sys.stderr)
    if unknown:
        print(printable(f"warning: kept {counted(len(unknown), 'heat map')} of the records dropped ({unknown[0]}, for "
                        f"one): {output} does not say which working folder their names are from (begun by an older "
                        "braintumor?): remove them by hand"), file=sys.stderr)


@contextlib.contextmanager
def maps_go_with_the_records(heatmaps: HeatmapWriter | None, args: argparse.Namespace) -> Iterator[None]:
    """A run stopped (Ctrl-C, a full disk) before ``-o FILE`` was written removes the heat maps it drew: no record names
    them. Records printed as they come (stdout, a device's: ``-o /dev/stdout``, a FIFO; ``--resume``'s file) keep
    theirs, but where writing the records failed (``> /dev/full``, ``-o /dev/full``) the maps whose records had not
    gone out (``heatmaps.named``: the table's and json's held back) are removed; a closed pipe (``| head -1``) is no
    failed write: its reader had what it wanted. A json run to stdout stopped otherwise (Ctrl-C, a model error) printed
    none of its held records: its maps go too. A run that drew none (every input refused or unreadable, or stopped
    before its first map) removes the folder it made for them, left empty. A write that failed says which maps went
    with it."""
    try:
        yield
    except BaseException as exc:
        if heatmaps is not None:
            output, resume = args.output if args.output != "-" else None, getattr(args, "resume", False)
            unwritten = isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError) and not (
                exc.filename and Path(exc.filename).parent == heatmaps.folder)  # the records', not a map's own
            whole = output and not is_special_file(Path(output))  # -o FILE: written whole at the end, or not at all
            held = not whole and not isinstance(exc, OSError) and args.format == "json"  # its array never printed
            gone = ([] if resume else heatmaps.drawn if whole else heatmaps.drawn[heatmaps.named:]
                    if unwritten or held else [])
            if gone and (isinstance(exc, OSError) or held):
                why = "the json records naming them were not printed" if held else "no record written names them"
                with contextlib.suppress(OSError):
                    print(printable(f"removed the {counted(len(gone), 'heat map')} this run drew in {heatmaps.folder}"
                                    f": {why}"), file=sys.stderr)
            heatmaps.discard(gone)
        raise
    if heatmaps is not None and not heatmaps.drawn:
        heatmaps.discard()  # only a folder made here, and only empty
