"""The training data's fingerprint: one sha256 over every image's class, file name and content, which names the exact
data a model was trained on (``data_fingerprint`` in its card, the decoded-image cache's key). Apart from the dataset
listing in :mod:`braintumor.data` (data.py was 304 lines); :func:`fingerprint` is imported from here.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .file_reads import open_unblocked

if TYPE_CHECKING:
    from .data import Dataset


def fingerprint(dataset: Dataset) -> str:
    """sha256 over (class, file name, content) of every image: names the exact training data."""
    digest = hashlib.sha256()
    for path, label in sorted(
        zip(dataset.paths, dataset.labels, strict=True), key=lambda t: (int(t[1]), str(t[0].relative_to(dataset.root)))
    ):
        # surrogateescape: a file name that is not UTF-8 hashes as its bytes (it was a UnicodeEncodeError)
        name = f"{dataset.classes[int(label)]}/{path.relative_to(dataset.root).as_posix()}\0"
        digest.update(name.encode("utf-8", "surrogateescape"))
        digest.update(_content_digest(path))
    return digest.hexdigest()


#: What the fingerprint hashes for a file it cannot read.
_UNREADABLE = hashlib.sha256(b"\0unreadable\0").digest()


def _content_digest(path: Path) -> bytes:
    """sha256 of a regular file's content, read in chunks (the same value as of its whole bytes, in bounded memory);
    :data:`_UNREADABLE` for a broken link or no permission (the decode skips and reports it; training must not stop
    here), and for a named pipe or device put in an image's place after the listing: read_bytes() waited for ever
    on a pipe with no writer, and read a device until the memory was full. Opened without waiting, then checked."""
    try:
        with open_unblocked(path) as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return _UNREADABLE
            content = hashlib.sha256()
            while chunk := fh.read(1 << 20):
                content.update(chunk)
    except OSError:
        return _UNREADABLE
    return content.digest()
