"""What a Python API caller is told of a source given the wrong way: a scan, a folder or a list handed to
``Classifier.predict``, bytes that are a file's name rather than its content. The error says what to call instead,
not only what the source is not.

Its own module because these errors are the Python API's (predictor, volume_io), not words every output shares
(:mod:`braintumor.wording`, which imports no reader), and they need the readers' error types.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from PIL import Image

from .image_frames import STACK_ADVICE
from .image_io import ImageError, UnrecognisedImage


def one_image_error(exc: ImageError | TypeError, source: object) -> ImageError | TypeError:
    """The ImageError or TypeError ``exc`` of an image given alone (``Classifier.predict``, ``heatmap.explain``),
    saying what to call instead where it is a scan or no image (read_volumes), a folder (expand_inputs) or several
    images (predict_many; a stack's pages too), not only what it is not."""
    if isinstance(exc, TypeError):  # predict(["a.jpg", "b.jpg"]) said only "not list"; a file is no several images,
        several = isinstance(source, (list, tuple, set, Iterator)) and not hasattr(source, "read")  # though iterable
        return TypeError(f"{exc}: predict_many(images) predicts each of several") if several else exc
    if (said := named_by_bytes(exc, source)) is not exc:
        return said
    if str(exc).endswith(STACK_ADVICE):  # "save each slice as its own image", where Python can pass each page
        image = "image" if isinstance(source, Image.Image) else "Image.open(file)"
        return ImageError(f"{exc}; in Python, predict_many([page.copy() for page in ImageSequence.Iterator({image})]) "
                          "predicts each page (from PIL import Image, ImageSequence)")
    if isinstance(exc, UnrecognisedImage):  # said where a caller of predict looks for scans
        return UnrecognisedImage(f"{exc} (Classifier.predict reads 2-D images; braintumor.volume_io.read_volumes "
                                 "reads DICOM, NIfTI and zips of DICOM files)")
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):  # said only "is a folder, not an image"
        return ImageError(f"{exc} (predict_many(braintumor.image_io.expand_inputs([folder])) predicts the images in "
                          "it; braintumor.volume_io.read_volumes reads a DICOM series folder)")
    return exc


def named_by_bytes(exc: Exception, source: object) -> Exception:
    """``exc`` of ``source`` read as content, saying so where those bytes name a file or folder
    (:func:`bytes_name_text`) or are a view of an array's pixels: ``predict(b"scan.jpg")``, ``predict(arr.data)`` and
    each such item of ``predict_many`` said only "not a recognised image"."""
    named = isinstance(exc, UnrecognisedImage) and (bytes_name_text(source) or _pixels_view_text(source))
    return UnrecognisedImage(f"{exc}{named}") if named else exc


def bytes_name_text(source: object) -> str:
    """What to say of bytes, read as content, that name an existing file or folder (``predict(b"scan.jpg")``, a name
    from ``os.listdir(b".")``): no image's or scan's content names one. "" for anything else."""
    if isinstance(source, bytes) and len(source) <= 4096 and os.path.exists(source):  # (a NUL in it: False)
        return ": bytes are read as content, and these are a file's or folder's name: pass it as a str (os.fsdecode)"
    return ""


def _pixels_view_text(source: object) -> str:
    """What to say of a memoryview of two or more dimensions read as content (``predict(arr.data)``): an array's
    pixels, told only "not a recognised image". A file's bytes are one row (viewed as uint16 items too). "" else."""
    if isinstance(source, memoryview) and source.ndim >= 2:
        return (f": a memoryview of {' x '.join(map(str, source.shape))} values (an array's pixels?) is read as a "
                "file's bytes: pass the array itself, np.asarray(view)")
    return ""
