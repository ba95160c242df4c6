"""Checks on the command line's arguments, shared by the subcommands: problems a user can fix, as one line.

Where a command will write is checked before any work: a file where a folder is wanted (or the reverse), or a
parent that is a file, used to surface as a traceback after the work (minutes of evaluation, a whole folder
predicted); now it is one line and exit code 2 before it starts. Each subcommand names its destinations in
``set_defaults(destinations=...)``. The argparse types of the values (numbers, names, ports):
:mod:`braintumor.cli_types`; the errors these raise, and what exit status each gives: :mod:`braintumor.exit_errors`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .atomic_files import check_folder_can_be_made, final_target, missing_folder
from .exit_errors import UsageError
from .file_names import MAX_NAME_BYTES, name_bytes
from .image_files import IMAGE_EXTENSIONS, SOCKET_TEXT, file_kind, is_special_file
from .missing_files import closed_folder_text, missing_text
from .output_formats import file_ending, picture_content
from .root_splits import data_folders


def bars(no_progress: bool) -> bool:
    """Progress bars on a terminal only (as predict): in a log or a pipe they are thousands of redrawn lines."""
    return not no_progress and sys.stderr.isatty()


def check_destination(flag: str, raw: str | None, folder: bool) -> None:
    """Raise UsageError unless ``raw`` (a file, or a folder when ``folder``) could be created where it points."""
    if not raw:
        return
    if raw == "-":  # a file or folder named '-' in the working folder, where standard output was meant
        raise UsageError(f"{flag} - (standard output) is not supported here: {flag} takes a "
                         + ("folder" if folder else "file name"))
    path = Path(raw)
    limit = _name_max(path)
    long = next((part for part in path.parts if name_bytes(part) > limit), None)
    if long is not None:  # found only when written, after the whole run: 'File name too long', exit 1
        raise UsageError(f"cannot write {flag} {raw}: a name in it is {name_bytes(long)} bytes long, over the "
                         f"{limit} its file system takes")
    if loop := next((p for p in (path, *path.parents) if p.is_symlink() and not p.exists()
                     and missing_text(p).startswith("symbolic link loop")), None):  # -o replaced the link by a file;
        raise UsageError(f"cannot write {flag} {raw}: {loop} is a symbolic link loop, leading to no file or folder: "
                         "remove it, or choose another name")  # --heatmap was "File exists" (exit 1), after the work
    if folder and path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {raw} is {file_kind(path)}; {flag} takes a folder")
    if not folder and path.is_dir():
        raise UsageError(f"{flag} {raw} is a folder; {flag} takes a file name")
    slash = next((s for s in (os.sep, os.altsep) if s and raw.endswith(s)), None)
    if not folder and slash:  # Path drops the slash: `-o results/` wrote a file named 'results'
        raise UsageError(f"{flag} {raw} ends with {slash}, as a folder does; {flag} takes a file name")
    if not folder and is_special_file(path):  # /dev/null, a FIFO: written through, not replaced
        if file_kind(path) == "a socket":  # no file opens it: 'No such device or address', after the whole run
            raise UsageError(f"cannot write {flag} {raw}: it is {SOCKET_TEXT}")
        if not os.access(path, os.W_OK):
            raise UsageError(f"cannot write {flag} {raw}: no permission")
        return
    if not folder and path.is_file() and read_only(path):  # moved over, its folder's permission was
        raise UsageError(f"cannot write {flag} {raw}: it is read-only: make it writable (chmod u+w), or choose "
                         "another name")  # enough: a file kept so (chmod a-w) was replaced
    # nothing is left here (a folder made to try it is removed): a command that stops early leaves no folder behind
    parent = path if folder else final_target(path).parent  # a link's target's folder: the file is written there
    nearest = next((p for p in (parent, *parent.parents) if p.exists()), Path.cwd())
    if not nearest.is_dir():
        raise UsageError(f"cannot write {flag} {raw}: {nearest} is {file_kind(nearest)}, not a folder")
    where = None if folder else missing_folder(path)  # a link's target gets the file (atomic_files)
    if where is not None:  # a folder output is made, with its parents; a file's folder is not:
        raise UsageError(f"cannot write {flag} {raw}: there is no folder {where} ({flag} makes no folders: "
                         "create it first, or correct the path)")  # a mistyped path silently made a tree of them
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {flag} {raw}: {_not_writable(nearest)}")
    if folder:  # a folder /proc's file system refuses was found only when made, after the work
        try:
            check_folder_can_be_made(path)
        except OSError as exc:  # no_file_made's words, or the OS's own (a read-only file system)
            raise UsageError(str(exc) if exc.errno is None else f"cannot write {flag} {raw}: {exc.strerror}") from None


def _not_writable(folder: Path) -> str:
    """Why ``folder`` takes no new files, where os.access said so: a read-only file system (a read-only mount, a
    container's) was said to be "no permission to write in" a folder whose permissions allow it, and chmod cannot
    change that."""
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on Windows
        read_only = False
    return f"{folder} is on a read-only file system" if read_only else f"no permission to write in {folder}"


def check_folder_name(flag: str, raw: str, names: Sequence[str] = (), command: str = "") -> None:
    """Raise UsageError where the folder output ``raw``, not yet a folder, ends as a file does: one of ``names``, the
    files ``command`` writes into it (``evaluate --out metrics.json``), or a file the CLI writes or reads
    (:func:`~braintumor.output_formats.file_ending`: ``--heatmap maps.png``, ``train --out run.json``), each of
    which made a folder of that name. A folder already there is taken, whatever its name, and so is a name written
    as a folder's, with a final slash (``--out run.json/``: it was refused with "name it run.", and ``maps.png/``
    taken)."""
    if os.path.isdir(raw) or raw.endswith(("/", os.sep)):
        return
    ending = Path(raw).suffix.lower()
    if ending and ending in {Path(name).suffix for name in names}:
        what = f"a file {command} writes"
    elif found := file_ending(raw):
        ending, what = found
    else:
        return
    base = raw[:-len(ending)]
    if not base or base.endswith(("/", os.sep)) or (os.path.lexists(base) and not os.path.isdir(base)):
        base += ending.replace(".", "_")  # '.png' alone, or a file already at the name without the ending
    raise UsageError(f"{flag} {raw} ends with {ending}, as {what} does; {flag} takes the folder to write its files "
                     f"into: name it {base} (or make the folder {raw} first)")


def _check_files_go(flag: str, raw: str, names: Sequence[str]) -> None:
    """Raise UsageError where a folder, a named pipe or a read-only file (or a link to one) in the folder output
    ``raw`` holds one of ``names``, the files written into it: ``evaluate --out OUT`` with a folder OUT/roc.png scored
    every image and drew every figure, then said only "error: Is a directory: OUT/roc.png" (the move into OUT refuses
    it: atomic_files); an earlier report.html kept read-only was replaced as root."""
    for name in names:
        path = Path(raw) / name
        kind = "a folder" if path.is_dir() else file_kind(path) if path.exists() else ""
        if kind.startswith(("a folder", "a named pipe")):
            raise UsageError(f"cannot write {flag} {raw}: {path} is {kind}, not the file {name} it would write "
                             f"there: move it aside, or choose another {flag}")
        if path.is_file() and read_only(final_target(path)):  # an earlier report kept so: replaced as root
            raise UsageError(f"cannot write {flag} {raw}: {path} is read-only: make it writable (chmod u+w), or "
                             f"choose another {flag}")


def read_only(path: Path) -> bool:
    """No write permission for this process, or none for anyone (``chmod a-w``): root's ``os.access`` grants that
    file, and a run as root (a container, CI) replaced a results file kept read-only. Not where no file can be made
    beside it (``/proc/version``), which is said so later, more usefully than "chmod u+w"."""
    if not os.access(path, os.W_OK):
        return True
    if path.stat().st_mode & 0o222:
        return False
    try:
        check_folder_can_be_made(path.parent)
    except OSError:
        return False
    return True


def _name_max(path: Path) -> int:
    """The longest name, in bytes, the file system of ``path``'s nearest existing folder takes (POSIX says; else
    :data:`~braintumor.file_names.MAX_NAME_BYTES`, the common one); a huge number where no limit can be learnt
    (Windows counts UTF-16 units, never more than the UTF-8 bytes: the write itself then says)."""
    nearest = next((p for p in (path.parent, *path.parent.parents) if os.path.isdir(p)), Path("."))
    if not hasattr(os, "pathconf"):
        return 1 << 30
    try:
        return int(os.pathconf(nearest, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return MAX_NAME_BYTES


def check_destinations(args: argparse.Namespace) -> None:
    """Every destination the parsed subcommand declared: (flag as typed, argparse attribute, names a folder[, the
    names of the files the command writes in that folder]).

    A file destination that is one of the inputs (``predict scan.jpg -o scan.jpg``, or ``-o *.jpg`` expanded by the
    shell; ``quantize model.onnx --out model.onnx``) is refused: writing it would destroy what it is made from. A
    folder destination named as a file is too (:func:`check_folder_name`), and one holding a folder where a file is
    written (:func:`_check_files_go`)."""
    named = [getattr(args, a, None) for a in ("paths", "model", "run")]  # predict's, quantize's, export's inputs
    flat = [x for v in named if v for x in (v if isinstance(v, list) else [v])]
    # os.path's: False for a name too long to be a file's (Path.is_file raised, and that input ended the whole run)
    inputs = [p for p in map(Path, flat) if str(p) != "-" and os.path.isfile(p)]
    folders = [p for p in map(Path, flat) if str(p) != "-" and os.path.isdir(p)]  # predict DIR, export RUN_DIR
    folders += [p.parent for p in inputs if p.suffix == ".pt"]  # export RUN/best.pt reads RUN's config and split
    # a dataset's images are inputs too: `data audit --out ROOT/Testing/glioma/x.jpg` replaced one with its report
    datasets = [Path(d) for d in (getattr(args, "data", None), getattr(args, "reference", None))
                if isinstance(d, str | Path) and os.path.isdir(d)]  # (behind a closed folder: the load says so)
    _check_apart(args)  # first: `-o r.csv --heatmap r.csv` is one name given twice, before --heatmap's ending
    for flag, attr, folder, *inside in getattr(args, "destinations", ()):
        raw = getattr(args, attr, None)
        try:
            check_destination(flag, raw, folder)
        except PermissionError:  # a folder on the way that may not be entered: 'Permission denied: PATH', exit 1
            raise UsageError(f"cannot write {flag} {raw}: {_closed_folder(Path(raw))}") from None
        if raw and folder:
            check_folder_name(flag, raw, inside[0] if inside else (), args.command)
        if raw and inside:
            _check_files_go(flag, raw, inside[0])
        read = [*folders, *datasets]
        if raw and not folder and Path(raw).is_file() and (any(_same_file(raw, p) for p in inputs)
                                                           or any(_read_from(d, Path(raw)) for d in read)):
            raise UsageError(f"{flag} {raw} is one of the inputs; writing it would overwrite that file: "
                             "choose another name")
        if raw and not folder and (what := picture_content(Path(raw))):  # never an output's own content
            raise UsageError(f"{flag} {raw} is {what} (by its content), not an output: writing it would replace "
                             "that file: choose another name")
        if raw and not folder and not Path(raw).exists():
            readers = [(d, "the input folder") for d in folders] + [(d, "the dataset") for d in datasets]
            reader = next(((d, what) for d, what in readers if _read_as_input(d, Path(raw))), None)
            if reader is not None:  # `predict scans -o scans/results.png`: every later run read it as a broken image
                raise UsageError(f"{flag} {raw} is inside {reader[1]} {reader[0]}, where later runs would read it "
                                 "as an input: choose a name outside it")
        if raw and not folder and (dataset := next((d for d in datasets if _in_splits(d, Path(raw), args)), None)):
            raise UsageError(f"{flag} {raw} is inside the dataset {dataset}, where later runs would list it among the "
                             "files not read as images: choose a name outside it")
        if raw and folder:
            _check_not_inside_data(flag, raw, args)


def _closed_folder(path: Path) -> str:
    """Why ``path`` cannot be reached: the first folder on its way whose permissions bar entering it (no x bit)."""
    return closed_folder_text(path) or "no permission to reach it"


def _check_apart(args: argparse.Namespace) -> None:
    """Two destinations of one command that name the same path (``predict -o r.csv --heatmap r.csv``): the heat maps
    went into a folder r.csv, and the records then failed as 'Is a directory: .r.csv.1a2b3c4d'."""
    given = [(flag, getattr(args, attr, None)) for flag, attr, *_ in getattr(args, "destinations", ())]
    given = [(flag, raw) for flag, raw in given if raw]
    for k, (flag, raw) in enumerate(given):
        for other, other_raw in given[k + 1:]:
            if os.path.abspath(raw) == os.path.abspath(other_raw) or _same_file(raw, other_raw):
                raise UsageError(f"{flag} {raw} and {other} {other_raw} name the same path: give each its own")


def _check_not_inside_data(flag: str, raw: str, args: argparse.Namespace) -> None:
    """A folder written inside what is read as data (``evaluate --out ROOT/Testing/eval``: a class 'eval' broke the
    dataset for every later command; ``predict scans --heatmap scans/maps``: the overlays were read next time)."""
    data = getattr(args, "data", None)
    paths = getattr(args, "paths", None) or []
    reference = getattr(args, "reference", None)  # evaluate --reference: its Training split, read by the leak check
    for source, what in [(data, "the dataset"), (reference, "the --reference dataset"),
                         *((p, "the input folder") for p in paths)]:
        if not source or source == "-" or not os.path.isdir(source):
            continue
        # of a dataset, the folders holding its class folders: `evaluate --out ROOT/eval` reads nothing there
        split = getattr(args, "split", None) if source is data else "Training"
        read = data_folders(source, split) if what != "the input folder" else [Path(source)]
        if any(Path(raw).resolve().is_relative_to(folder.resolve()) for folder in read):
            raise UsageError(f"{flag} {raw} is inside {what} {source}: its files would be read as data; "
                             "choose a folder outside it")
        if what != "the input folder" and Path(raw).resolve() == Path(source).resolve():  # ROOT beside its splits
            raise UsageError(f"{flag} {raw} is {what} {source} itself: a dataset is input, never output; choose a "
                             "folder outside it")


#: A run folder's own files, which export, quantize and calibrate read.
RUN_FILES = ("best.pt", "last.pt", "config.json", "split.json", "metrics.jsonl")


def _read_from(folder: Path, target: Path) -> bool:
    """Whether a command given ``folder`` reads the existing file ``target``: an image or scan below it (``predict DIR
    -o DIR/scan.jpg`` replaced a scan with the results), a run's own file (``export RUN --out RUN/best.pt`` replaced
    the checkpoint it exported)."""
    from .scan_sniff import is_volume_file

    try:  # the entry itself, not where a link points: replacing a link loses the link
        inside = (target.parent.resolve() / target.name).is_relative_to(folder.resolve())
    except OSError:
        return False
    return inside and (target.suffix.lower() in IMAGE_EXTENSIONS or target.name in RUN_FILES or is_volume_file(target))


def _read_as_input(folder: Path, target: Path) -> bool:
    """Whether ``predict folder`` would read ``target``, a file not there yet, as an input: an image or a scan by its
    name (a zip in a folder is not opened)."""
    from .scan_sniff import is_volume_file

    try:
        inside = (target.parent.resolve() / target.name).is_relative_to(folder.resolve())
    except OSError:
        return False
    named = target.suffix.lower() in IMAGE_EXTENSIONS or is_volume_file(target)
    return inside and named and target.suffix.lower() != ".zip"


def _in_splits(dataset: Path, target: Path, args: argparse.Namespace) -> bool:
    """Whether the file ``target`` lies in a class folder of ``dataset`` (below a split), whatever its name: a report
    there was listed by every later run among the files not read as images (one beside the class folders is not)."""
    try:
        where = target.parent.resolve()
    except OSError:
        return False
    return any(where.is_relative_to(f.resolve()) and where != f.resolve()
               for f in data_folders(dataset, getattr(args, "split", None)))


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
