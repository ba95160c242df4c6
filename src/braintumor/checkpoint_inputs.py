"""A torch checkpoint (``best.pt``, a zip that ``torch.save`` wrote) given where an image, a scan or a model goes.

Why its own module: the CLI, the web app, the Python API and the model loader each meet such a file (in a zip of
scans, as bytes, as ``--model``) and tell it the same thing; recognising it needs no torch, so serving can say it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from .image_io import ImageError
from .wording import export_first_text


def torch_layout(names: Iterable[str]) -> bool:
    """Whether a zip's member names are what ``torch.save`` writes (members under one folder with its ``data.pkl``):
    the ``best.pt`` and ``last.pt`` of a run folder, whatever their name, given as a model or as an input."""
    return any(name.endswith("/data.pkl") for name in names)


def torch_zip(data: bytes) -> bool:
    """Whether ``data`` is a zip that :func:`torch_layout` says ``torch.save`` wrote (a checkpoint as bytes)."""
    from .zip_io import listed_names  # (zip_io imports this module)

    return torch_head(data) or torch_layout(listed_names(data))  # (its first entry: a checkpoint of many tensors)


def torch_file(path: str | os.PathLike) -> bool:
    """Whether the file ``path`` is what :func:`torch_zip` says of its bytes (``--model runs/x/best.pt``, distill's
    ``--teacher``). Its head alone tells what ``torch.save`` writes; past it, only a zip's central directory is read
    (:func:`~.zip_io.file_names`), of a file no larger than the largest zip a scan input may be
    (``volume_io.MAX_VOLUME_BYTES``): a damaged ONNX model (a protobuf, never a zip) of 500 MB was read whole, twice
    over (1 GB), to say it is no checkpoint, and a zip of JPEGs of 500 MB whole to find no ``data.pkl`` in it."""
    from .volume_io import MAX_VOLUME_BYTES  # on an error path only
    from .zip_io import file_names  # (zip_io imports this module)

    try:
        with open(path, "rb") as f:
            head = f.read(30 + 0xFFFF)  # a zip's local header and the longest name it can hold
            if torch_head(head):
                return True
            if not head.startswith(b"PK\x03\x04") or os.fstat(f.fileno()).st_size > MAX_VOLUME_BYTES:
                return False  # what torch.save writes starts as a zip does
            return torch_layout(file_names(f))
    except OSError:
        return False


def torch_head(head: bytes) -> bool:
    """Whether a member's first bytes are a zip whose first entry (named in its local header) is torch's data.pkl."""
    size = int.from_bytes(head[26:28], "little")
    return head.startswith(b"PK\x03\x04") and torch_layout([head[30:30 + size].decode("latin-1")])


def checkpoint_text(display: str | None) -> str:
    """What a torch checkpoint given as an input is told, by the CLI and the Python API alike: the API's
    ``Classifier.predict("runs/x/best.pt")`` said 'a zip file, not a 2-D image: read_volumes reads scans', the CLI
    what to do. ``display``: its name, None for bytes."""
    return (f"a torch checkpoint (what 'braintumor train' writes), not an image or scan: "
            f"{export_first_text(display or 'RUN/best.pt')} and use that file as the model (--model model.onnx; in "
            "Python, Classifier.load('model.onnx'))")


class CheckpointInput(ImageError):
    """A torch checkpoint as an input: the page says what to send instead (:func:`checkpoint_text` is for operators)."""
