"""Several model files rewritten together: each written beside itself first, then all put in place, or none.

Why its own home: ``braintumor orientation FLOAT INT8`` gives both files one network and one set of thresholds; a
failure at the second (a full disk, Ctrl-C, a check that fails) left the first rewritten and the second as it was: a
float file and its int8 copy that refused different slices.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from .atomic_files import put_in_place
from .stop_signals import signals_held


@contextlib.contextmanager
def rewritten_together(models: Sequence[str | os.PathLike]) -> Iterator[list[Path]]:
    """The paths (not yet made) each of ``models`` is to be written to, in a hidden temporary folder beside it; when
    the block ends without an error they are put in place (:func:`~braintumor.atomic_files.put_in_place`) one after
    the other, stop signals held; else every model stays as it was and the temporary folders are removed. A move that
    fails part way (the second file's: a full disk) puts back the files already moved, as ``evaluate --out``'s
    folder does (:func:`~braintumor.atomic_files._swap_in`): it left the first rewritten and the second not."""
    with contextlib.ExitStack() as temps:
        paths = [Path(temps.enter_context(tempfile.TemporaryDirectory(prefix=".braintumor-", dir=Path(m).parent)))
                 / Path(m).name for m in models]
        yield paths
        with signals_held():
            done: list[tuple[Path, Path]] = []  # (a model moved, its earlier file, kept in its temporary folder)
            try:
                for path, model in zip(paths, models, strict=True):
                    kept = path.with_name(f".earlier-{path.name}")
                    if _kept(Path(model), kept):
                        done.append((Path(model), kept))
                    put_in_place(path, model)
            except BaseException:
                for model, kept in reversed(done):
                    with contextlib.suppress(OSError):
                        put_in_place(kept, model)
                raise


def _kept(model: Path, kept: Path) -> bool:
    """Whether ``model``'s file as it is now was kept at ``kept`` (not where it is no regular file): a hard link (no
    copy) where the move replaces its name, a copy where it is written through (a link to the model: put_in_place
    writes into the very file a hard link would share)."""
    if not model.is_file():
        return False
    if model.is_symlink():
        shutil.copyfile(model, kept)
        return True
    try:
        os.link(model, kept)
    except OSError:  # a file system without hard links
        shutil.copy2(model, kept)
    return True
