"""Decode untrusted image files into 8-bit grayscale arrays, safely.

Every entry point (training cache, CLI, Python API, web) decodes through
:func:`read_image`, so limits and error messages are the same everywhere. Which files are images (walking
folders, pipes and devices) is :mod:`braintumor.image_files`; ``expand_inputs`` is imported here too, where the
Python API has always offered it (``image_io.expand_inputs``, the place predict_many's folder errors name).
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from .file_reads import read_limited
from .image_files import ListedFile, unreadable_text
from .image_files import expand_inputs as expand_inputs  # public here: predict_many's folder errors name it here
from .image_frames import cut_short, deep_planes, several_frames, upright, wide_colour
from .image_gray import GrayPlane, gray_plane, jpeg_is_ycc, reduced_jpeg_colour
from .missing_files import long_name_text, missing_url_text, not_a_folder_text
from .quiet_libraries import quiet_pillow
from .stream_position import position, rewind_advice
from .tiff_strips import damaged_strips, libtiff_lines_dropped
from .wording import DOWNSCALE, NUL_IN_NAME, RESAVE, too_many_pixels_text

#: What the readers take: a path, the file's content (any bytes-like object: a type checker held bytearray and
#: memoryview, which every reader takes, to be no bytes) or a binary file.
ImageSource = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO

#: Formats we decode; everything else is refused, whatever the file name says: the decoders run on untrusted bytes.
#: A refusal of the file, not of its pixels: a PIL image of a GIF, decoded by the caller, is read as the PNG the
#: refusal says to convert it to (tests/test_python_api_pil_images.py).
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "BMP", "TIFF", "WEBP")
#: Largest image we decode (pixels). Bigger headers are refused before any pixel is read.
MAX_PIXELS: int = 40_000_000
#: An image whose pixels stop before their end (Pillow: "image file is truncated"): it read "corrupt or truncated
#: (OSError)", a Python class name, of a file we know was cut short.
TRUNCATED: str = "image file is truncated: it ends before its pixels do (cut short in a copy or a download?)"
#: What a file whose decoder failed for a reason no check here names is told
#: (:func:`braintumor.image_headers.decode_failure_text`): it said "image data is corrupt or truncated (OSError)", a
#: Python class name no one could act on.
UNDECODABLE: str = ("image data could not be decoded: the file is damaged, cut short, or a variant this decoder does "
                    f"not read; if a viewer opens it, {RESAVE}")
#: Smallest width and height (pixels) of an image the model classifies: of the accepted Testing images shrunk to 64 px,
#: 99.4 % are right (99.5 % at full size), at 32 px 89.9 % (``python scripts/small_images.py``, docs/RESULTS.md "Small
#: images"; an older file's one-off check said 88.5 %). Checked by ``Classifier.inspect_crop``, which says why a
#: scan's slices are exempt; not by :func:`check_pixels`: training and tools decode any size.
MIN_SIDE: int = 64
#: Most scans (SOS markers) a JPEG may have: libjpeg decodes each in full, so one 1 MB file of 13 000 repeated scans
#: took 48 s. In entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so the count is exact.
MAX_JPEG_SCANS: int = 100
#: Most scans times pixels a JPEG may cost: every scan is decoded over the whole image, so 100 scans of 40 M pixels (a
#: 240 kB file) took 8 s. A progressive JPEG's usual 6 to 10 scans fit at any size up to MAX_PIXELS.
MAX_JPEG_SCAN_PIXELS: int = 16 * MAX_PIXELS
#: Largest encoded file we read (bytes).
MAX_FILE_BYTES: int = 64 * 1024 * 1024
#: Most pixels one web request may ask us to decode, all its images together. Compression makes
#: pixels cheap to send (a 40 M-pixel WebP of one colour is a few kB) but not to decode (seconds),
#: so a request of many such files could hold a worker past its timeout.
MAX_REQUEST_PIXELS: int = 2 * MAX_PIXELS


@dataclass(frozen=True)
class InputInfo:
    """What the decoder saw before the image became grayscale (used to refuse non-MRI input)."""

    #: The size upright (after an EXIF turn), as the user sees the image and the refusals say it
    width: int
    height: int
    colourfulness: float = 0.0
    #: The DICOM Modality a slice came with (None: not DICOM, or none given)
    modality: str | None = None
    #: Where it was read where the file has no Modality element (``Slice.modality_source``): a refusal says it
    modality_source: tuple[str, str] | None = None
    #: The second-largest head's extent as a share of the largest's (several slices in one image, apart or abutting
    #: at a seam; 0 for one): :func:`braintumor.preprocess.prepare_measured`, set by ``Classifier.inspect``
    second_head: float = 0.0
    #: A scan's slice (DICOM, NIfTI), not an image file or array: set by ``Classifier.inspect_crop``; told other advice
    scan: bool = False


class ImageError(ValueError):
    """An input that cannot be used as an image; the message is safe to show a user."""


class UnrecognisedImage(ImageError):
    """Content no reader recognised, said in the 2-D formats; entry points that read more say what they read
    (:func:`braintumor.wording.input_error`, :meth:`braintumor.predictor.Classifier.predict`)."""


def check_pixels(width: int, height: int) -> None:
    """Refuse an image with no pixels or more than MAX_PIXELS, before any pixel is decoded or converted."""
    if width < 1 or height < 1:
        raise ImageError("image has no pixels")
    if width * height > MAX_PIXELS:
        raise ImageError(too_many_pixels_text(width, height, MAX_PIXELS))


def _open_bytes(source: ImageSource) -> BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        size = source.nbytes if isinstance(source, memoryview) else len(source)  # a memoryview's len(): its items
        if size > MAX_FILE_BYTES:  # the same limit as a file's (an upload's bytes were not held to it)
            raise ImageError(f"image is {size} bytes; the limit is {MAX_FILE_BYTES} bytes: {DOWNSCALE}")
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        if not os.fspath(source):  # Path("") is "." ("is a folder, not an image: ."): an unset name, an empty cell
            raise ImageError("expected a file name, got an empty string")
        if said := not_a_folder_text(source) or missing_url_text(source) or long_name_text(source):  # Path() drops
            raise ImageError(said)  # scan.jpg/'s / (the file was read) and https://'s (a name nobody typed echoed)
        data = read_file(source if isinstance(source, ListedFile) else Path(source), MAX_FILE_BYTES)  # (its walk)
    elif callable(getattr(source, "read", None)):
        data = read_stream(source)
    else:
        raise TypeError(f"expected a path, bytes or a binary file, not {type(source).__name__}")
    if not data:
        raise ImageError("file is empty (0 bytes)")
    return io.BytesIO(data)


def read_file(path: Path, limit: int) -> bytes:
    """``path``'s bytes, at most ``limit`` of them; ImageError (never OSError) saying what is wrong: gone, a link that
    leads nowhere, a folder, too large, empty, unreadable. One home for the image and the scan readers
    (:func:`braintumor.volume_io.read_path`); the open file's fstat says it all (a stat of its name was one more)."""
    if "\0" in str(path):  # stat()'s bare ValueError 'embedded null byte' ended a predict_many loop at that name
        raise ImageError(NUL_IN_NAME)

    def refused(info: os.stat_result) -> None:  # read_limited's check
        if stat.S_ISDIR(info.st_mode):
            raise ImageError(f"is a folder, not an image: {path}")
        if info.st_size > limit:
            raise ImageError(f"file is {info.st_size} bytes; the limit is {limit} bytes")

    try:
        data = read_limited(path, limit, refused)  # a pipe or device: its size said 0
    except OSError as exc:  # not there (or removed since it was listed), a broken link, no permission (a folder one
        folder = isinstance(exc, PermissionError) and os.path.isdir(path)  # may not read, or Windows: not opened)
        raise ImageError(f"is a folder, not an image: {path}" if folder else unreadable_text(path, exc)) from None
    if len(data) > limit:
        raise ImageError(f"file is larger than the limit of {limit} bytes")
    if not data:
        raise ImageError("file is empty (0 bytes)")
    return data


def read_stream(source: BinaryIO, limit: int | None = None) -> bytes:
    """A binary file's bytes from where it stands, at most ``limit`` (default :data:`MAX_FILE_BYTES`; ImageError past
    it); TypeError for a file opened in text mode. One home for the image and the scan readers
    (:func:`braintumor.volume_io.read_volumes`)."""
    limit = MAX_FILE_BYTES if limit is None else limit  # read here, not at import: tests lower it
    if isinstance(source, io.TextIOBase):  # before reading: a JPEG's bytes fail to decode as UTF-8
        raise TypeError("the file was opened in text mode: open it with 'rb'")
    data = _read_stream(source, limit)
    if not isinstance(data, (bytes, bytearray, memoryview)):  # None (non-blocking) said "has no len()"
        raise TypeError("the file was opened in text mode: open it with 'rb'" if isinstance(data, str) else
                        f"the file's read() gave {type(data).__name__}, not bytes (None: a non-blocking stream with "
                        "nothing to read yet; read it in blocking mode, or pass its bytes)")
    if len(data) > limit:
        raise ImageError(f"file is larger than the limit of {limit} bytes")
    return data


def _read_stream(source: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` + 1 bytes of a binary file from where it stands; a closed or write-only one is this input's
    ImageError (read() raised ValueError or io.UnsupportedOperation, a traceback from predict and the end of a
    predict_many stream), and one read to its end is told so, not as an empty file."""
    if getattr(source, "closed", False) is True:
        raise ImageError("the file is closed: predict it inside its 'with open(...)' block")
    readable = getattr(source, "readable", None)
    if callable(readable) and readable() is False:
        raise ImageError("the file is not open for reading: open it with 'rb'")
    try:
        data = source.read(limit + 1)
    except (OSError, ValueError):  # a socket, pipe or wrapper failing mid-read
        raise ImageError("cannot read the file: reading it failed partway (a socket, pipe or network file that "
                         "broke off?)") from None
    if not data and (at := position(source)):  # an image saved into a BytesIO, passed without seek(0): not empty
        raise ImageError(f"nothing left to read: the stream is at its end (position {at}); "  # a socket's read twice
                         f"{rewind_advice(source, 'seek(0) after writing it', 'open it again: it cannot seek')}")
    return data


def read_image(source: ImageSource, draft_size: int | None = None) -> np.ndarray:
    """Decode ``source`` (path, bytes or binary file) into a 2-D uint8 grayscale array."""
    return decode_image(source, draft_size)[0]


def decode_image(source: ImageSource, draft_size: int | None = None) -> tuple[np.ndarray, InputInfo]:
    """Decode ``source`` into a 2-D uint8 grayscale array plus what it was (size, colour).

    ``draft_size`` lets decoding skip resolution we would throw away anyway: JPEGs through
    Pillow's draft mode, then any image whose shorter side is still at least twice
    ``draft_size`` is box-reduced by the largest integer factor that keeps it >= ``draft_size``
    (cheap, and it keeps the crop and resize that follow cheap for 2000 px PNGs).
    Raises :class:`ImageError` with a user-safe message for anything that is not a decodable image.
    """
    return decode_plane(source, draft_size)[:2]


def decode_plane(source: ImageSource, draft_size: int | None = None,
                 ) -> tuple[np.ndarray, InputInfo, GrayPlane | None]:
    """:func:`decode_image`, and the gray array as the Pillow image it was made from, with its histogram where decoding
    made that too (``image_gray.GrayPlane``; None where it had neither): ``preprocess.prepare_measured`` takes them."""
    if isinstance(source, os.PathLike) and not isinstance(source, ListedFile):  # a path of bytes too (scandir(b"."))
        source = os.fsdecode(source)
    buffer = _open_bytes(source)
    from .image_refusals import jpeg_scan_problem, too_large_error, unrecognised_error  # (they import this module)

    try:
        # a damaged file's warnings and log lines: the user sees our one-line message instead
        with quiet_pillow(bombs_raise=True):
            img = Image.open(buffer, formats=ALLOWED_FORMATS)
            width, height = img.size
            check_pixels(width, height)
            if problem := several_frames(img) or deep_planes(img) or cut_short(img) or damaged_strips(img):
                raise ImageError(problem)
            jpeg_colour = None
            if img.format in ("JPEG", "MPO") and (problem := jpeg_scan_problem(buffer.getvalue(), width, height)):
                raise ImageError(problem)  # (MPO: a JPEG with MPF)
            if draft_size and img.format == "JPEG":
                if img.mode == "RGB" and jpeg_is_ycc(img):
                    # One decode as YCbCr, without libjpeg's colour conversion: its Y plane is bit for bit
                    # the grayscale decode that models are trained on, and Cb/Cr tell colour from gray
                    img.draft("YCbCr", (draft_size, draft_size))
                else:
                    if img.mode != "L":  # a 1/8-scale colour decode, so the gray path stays as trained
                        jpeg_colour = reduced_jpeg_colour(buffer)
                    img.draft("L", (draft_size, draft_size))
            with libtiff_lines_dropped(img):  # what a damaged TIFF's decoder prints on stderr: ours says what matters
                img = wide_colour(img) or img  # before load(), which forgets how the file stores its pixels
                img.load()
            stored, img = img.size, upright(img)
            if img.size != stored:  # turned a quarter by its EXIF: its size as the user sees it, and the model
                width, height = height, width
            gray, colour, plane = gray_plane(img)
            if jpeg_colour is not None:
                colour = jpeg_colour
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise unrecognised_error(buffer.getvalue(), source) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large_error(buffer.getvalue()) from None
    except MemoryError:
        raise ImageError("image is too large to decode") from None
    except Exception as exc:  # a BMP's header Pillow refuses (its own OSError), pixels that stop short, or a decoder
        from .image_headers import decode_failure_text

        raise ImageError(decode_failure_text(exc, buffer.getvalue())) from None  # error nobody foresaw: not a 500
    if gray.ndim != 2:
        raise ImageError("image has an unsupported layout")
    reduced = box_reduced(gray, draft_size)
    return reduced, InputInfo(width=width, height=height, colourfulness=colour), plane if reduced is gray else None


def box_reduced(gray: np.ndarray, draft_size: int | None) -> np.ndarray:
    """``gray`` box-reduced by the largest whole factor that keeps its shorter side at least ``draft_size`` (a speed
    step of every reader: a decoded file's, and an image in memory's, so that both get the same answer)."""
    factor = min(gray.shape) // draft_size if draft_size else 1
    return np.asarray(Image.fromarray(gray).reduce(factor)) if factor >= 2 else gray
