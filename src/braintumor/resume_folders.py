"""Which working folder a ``braintumor predict --resume`` file's relative names are from: its records say it
(:data:`ROOT_KEY`), and a run from another folder is refused.

Why its own module: --resume knows an input by its name from the working folder, so the folder is part of what a
continued file means; reading and repairing the file (batch_resume.py) is another matter.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .exit_errors import UsageError
from .file_names import os_text, utf8_text
from .image_files import is_special_file

if TYPE_CHECKING:
    from .batch_resume import Previous


#: A --resume run's records with a relative ``path`` say the working folder it is named from, under this key (jsonl)
#: or column (csv, last): from another folder holding the same relative names, those files counted as done.
ROOT_KEY = "working_folder"
#: How many relative names of the continued file :func:`check_working_folder` looks for, at most.
NAMES_SAMPLED = 1000


def _here(name: str) -> bool:
    """Whether ``name``, relative, names a file or folder from this working folder, or one in a folder that is there
    (the file itself may have been moved away since it was scored); a zip member's name by its zip's."""
    path = os_text(name)
    for candidate in dict.fromkeys([path, path.rsplit(":", 1)[0]]):
        parent = os.path.dirname(candidate)
        if os.path.lexists(candidate) or (parent and os.path.isdir(parent)):
            return True
    return False


def check_working_folder(target: Path, prev: Previous) -> None:
    """Refuse (UsageError) to continue ``target`` from another working folder than the one its relative names are
    from. --resume knows an input by its absolute name from the working folder: from another, none of its records
    were matched, and the same files given by other names (``cd ..; braintumor predict a/scans``) were scored and
    appended a second time; from another folder holding the same relative names, other files counted as done. Records
    say their folder (:data:`ROOT_KEY`); a file written before they did is refused when none of its relative names
    names anything from here."""
    here = _working_folder()
    for root, name in prev.roots.items():
        if not _same_folder(os_text(root), here):
            raise UsageError(f"cannot resume: the names in {target} are relative to the working folder {root} ({name}, "
                             f"for one), not to this one ({here}): run the command from {root} (or give -o another "
                             "file)")
    if prev.relative and not any(_here(name) for name in prev.relative):
        raise UsageError(f"cannot resume: the names in {target} are relative to another working folder "
                         f"({prev.relative[0]}, for one, is not found from {_working_folder()}): run the command from "
                         "the folder the run was started in (or give -o another file)")


def _working_folder() -> str:
    try:
        return os.getcwd()
    except OSError:  # removed since the run started
        return "this working folder"


def _same_folder(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)  # one folder by two names (a link to it)
    except OSError:  # either is gone
        return a == b


def resume_root(fmt: str, prev: Previous) -> str | None:
    """What this --resume run's records with relative names say under :data:`ROOT_KEY`: the working folder (empty
    when it is gone); None for a csv whose header has no such column (written before it had one), whose rows keep
    to its columns."""
    if fmt == "csv" and prev.header and ROOT_KEY not in prev.columns:
        return None
    return _root_text()


def maps_root(args: argparse.Namespace) -> str | None:
    """What a run without --resume writes under :data:`ROOT_KEY` in each record (``with_root(rec, root, True)``): the
    working folder, for a relative ``--heatmap DIR`` with a jsonl or csv ``-o FILE``, which --resume may continue (as
    the advice after a model failure says); else None. Without it, the maps of the records that --resume drops could
    not be found (a warning blamed an older braintumor), and the inputs' maps were drawn again beside them."""
    heatmap, output = getattr(args, "heatmap", None), getattr(args, "output", None)
    if not heatmap or os.path.isabs(heatmap) or args.format not in ("jsonl", "csv") or output in (None, "-"):
        return None
    return None if is_special_file(Path(output)) else _root_text()


def _root_text() -> str:
    """The working folder as records say it (empty when it is gone)."""
    here = _working_folder()
    return utf8_text(here) if os.path.isabs(here) else ""


def with_root(rec: dict, root: str | None, maps_relative: bool = False) -> dict:
    """``rec`` with its working folder (:func:`resume_root`) when its ``path`` is relative (an absolute one says it),
    or ``maps_relative``, its heat map's (a relative ``--heatmap DIR``): a record dropped to redo takes its map with it
    (:func:`~braintumor.heatmap_files.drop_maps`), from that folder, whichever the resumed run is started in."""
    if root and (maps_relative or (isinstance(rec.get("path"), str) and not os.path.isabs(os_text(rec["path"])))):
        rec[ROOT_KEY] = root
    return rec
