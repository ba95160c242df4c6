"""Several model files rewritten together: each written beside itself first, then all put in place, or none.

Why its own home: ``braintumor orientation FLOAT INT8`` gives both files one network and one set of thresholds; a
failure at the second (a full disk, Ctrl-C, a check that fails) left the first rewritten and the second as it was: a
float file and its int8 copy that refused different slices.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from .atomic_files import put_in_place
from .stop_signals import signals_held


@contextlib.contextmanager
def rewritten_together(models: Sequence[str | os.PathLike]) -> Iterator[list[Path]]:
    """The paths (not yet made) each of ``models`` is to be written to, in a hidden temporary folder beside it; when
    the block ends without an error they are put in place (:func:`~braintumor.atomic_files.put_in_place`) one after
    the other, stop signals held; else every model stays as it was and the temporary folders are removed."""
    with contextlib.ExitStack() as temps:
        paths = [Path(temps.enter_context(tempfile.TemporaryDirectory(prefix=".braintumor-", dir=Path(m).parent)))
                 / Path(m).name for m in models]
        yield paths
        with signals_held():
            for path, model in zip(paths, models, strict=True):
                put_in_place(path, model)
