"""Images already in memory (numpy arrays, PIL images) -> 8-bit grayscale, as a file of them is decoded.

Why: Python API users hold images in memory as often as in files (a PIL image, an array from imageio,
OpenCV or a DICOM reader). They get the conversion a file of the same pixels gets (colour measured, then
dropped; high bit depths and floats min-max scaled; transparency on black) and a precise error instead of
a silently wrong answer: cast to uint8, a 12-bit array wraps around and a float image in [0, 1] turns black.
An image in memory much larger than the model input is box-reduced as a decoded file of it is (a speed step:
``Classifier._decode``), so that both get the same answer; a JPEG file is decoded smaller still (libjpeg's draft).
What ``predict`` and ``predict_many`` take is checked here too (:func:`check_one`, :func:`check_many`).
"""

from __future__ import annotations

import array
import contextlib
import numbers
import os
import threading
import weakref
from collections.abc import Iterable

import numpy as np
from PIL import Image, ImageFile

from .gray_levels import colour16_uint8, minmax_uint8
from .image_frames import cut_short, deep_planes, several_frames, upright, wide_colour
from .image_gray import to_gray
from .image_headers import decode_failure_text, image_kind
from .image_io import ImageError, InputInfo, check_pixels
from .quiet_libraries import quiet_pillow
from .scan_objects import scan_object_hint
from .tiff_strips import damaged_strips, libtiff_lines_dropped
from .volume_objects import Slice, Volume
from .wording import no_finite_values_text

#: What :func:`gray_from_memory` takes.
InMemoryImage = np.ndarray | Image.Image


def is_in_memory(source: object) -> bool:
    """Whether ``source`` is an image already in memory rather than a file, bytes or a stream."""
    return isinstance(source, (np.ndarray, Image.Image))


def gray_from_memory(image: InMemoryImage) -> tuple[np.ndarray, InputInfo]:
    """A 2-D uint8 grayscale array plus what the image was (size, colour). Raises ImageError.

    Takes a 2-D array of gray levels (uint8 as it is; other integer or float types min-max scaled, as a
    16-bit file is; also as (H, W, 1) or torch's (1, H, W)), an (H, W, 2) gray + alpha or (H, W, 3) or (H, W, 4)
    colour array, uint8 or uint16 (RGB order, as Pillow and imageio give it; 16-bit colour or gray + alpha stretched
    by its own range, as a 16-bit PNG or TIFF of it is) or
    a PIL image of any mode Pillow can convert (turned upright by its EXIF orientation, as a file is).
    """
    if isinstance(image, Image.Image):
        return _gray_from_pil(image)
    arr = image if isinstance(image, np.ma.MaskedArray) else np.asarray(image)  # its mask: after the size check
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    elif arr.ndim == 3 and arr.shape[0] == 1 and arr.shape[-1] not in (2, 3, 4):  # torch's (1, H, W) gray image
        arr = arr[0]
    if arr.ndim < 2 and arr.dtype.kind in "OUS":  # a cell or a column's .values: "not one of shape (1,)"
        raise ImageError(f"expected an image, not {array_type_text(arr.dtype)} of shape {arr.shape}: file names? "
                         "predict takes one as a str, and predict_many(names) predicts each of several")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (2, 3, 4)):
        raise ImageError("expected a 2-D grayscale array, an (H, W, 2) gray + alpha array or an (H, W, 3) or "
                         f"(H, W, 4) colour array, not one of shape {arr.shape}{_layout_hint(arr.shape)}"
                         f"{_file_bytes_hint(arr)}")
    height, width = arr.shape[:2]
    check_pixels(width, height)
    if isinstance(arr, np.ma.MaskedArray):
        arr = _unmasked(arr)
    if arr.ndim == 3:
        if arr.dtype.kind == "u" and arr.dtype.itemsize == 2:  # as a 16-bit colour or LA file is read
            arr = colour16_uint8(arr)
        if arr.dtype != np.uint8:
            words = arr.dtype.kind in _KIND_WORDS  # no numbers (it said "not <U1"): no hint of slices either
            said = array_type_text(arr.dtype) if words else f"{arr.dtype}{_colour_type_hint(arr)}"
            raise ImageError(f"a colour array must be uint8 (0-255 per channel) or uint16 (as a 16-bit file), "
                             f"not {said}")
        gray, colour = to_gray(Image.fromarray(np.ascontiguousarray(arr)))  # (H, W, 2): LA, alpha on black
        return gray, InputInfo(width=width, height=height, colourfulness=colour)
    if arr.dtype == np.uint8:
        return arr, InputInfo(width=width, height=height)
    if arr.dtype.kind not in "uif":  # by kind: numpy files time spans (timedelta64) under its integers, answered
        raise ImageError(f"expected gray levels (an integer or float array), not {array_type_text(arr.dtype)}")
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).any():  # else NaN is background, as in a file
        raise ImageError(no_finite_values_text("the array"))
    return minmax_uint8(arr), InputInfo(width=width, height=height)


def check_one(source: object) -> None:
    """TypeError unless ``source`` is one image as ``Classifier.predict`` takes it (a path, bytes, a binary file, an
    image in memory; a scan's Slice comes as its pixels), naming what to pass instead of a Volume, a scan's object
    or an array-like (a torch tensor) or buffer (array.array, a ctypes array): decode_image's own refusal names files
    only."""
    if is_in_memory(source) or isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)) \
            or callable(getattr(source, "read", None)):
        return
    hint = ": predict one of its slices, or predict_many(volume.slices)" if isinstance(source, Volume) else (
        scan_object_hint(source) or (": np.asarray(x) makes a numpy array of it (a torch tensor: "
                                     "x.detach().cpu().numpy())" if hasattr(source, "__array__") else ""))
    if isinstance(source, np.lib.npyio.NpzFile):  # np.load of an .npz: named arrays, not one
        hint = f": an .npz archive of arrays ({', '.join(source.files)}): pass one, archive[key]"
    if isinstance(source, (numbers.Number, np.generic)):  # np.float64: "np.asarray(x) makes a numpy array of it"
        hint = (": a number is no image (an empty cell of a column of names, NaN? leave those out, "
                'df["path"].dropna())')
    hint = hint or _buffer_hint(source)  # a file read into array("B") (or pixels into one) said only "not array"
    raise TypeError("expected a path, bytes, a binary file, a numpy array, a PIL image or a scan's Slice, "
                    f"not {type(source).__name__}{hint}")


def check_many(sources: object) -> None:
    """TypeError unless ``sources`` can be ``Classifier.predict_many``'s iterable of images: said before its first item
    is taken (one image, a str, a file, a Slice or Volume, a scan's object), where iterating it said nothing or the
    wrong thing."""
    # an array of names (np.array(glob(...)), a column's .values, bytes of os.listdir(b".")) is a list, no image
    names = isinstance(sources, np.ndarray) and sources.ndim == 1 and sources.dtype.kind in "OUS"
    if isinstance(sources, (str, os.PathLike, bytes, bytearray, memoryview, Slice, Volume)) \
            or (is_in_memory(sources) and not names) or callable(getattr(sources, "read", None)):
        # a file's lines are no images; checked here, not on the first next(): a str is iterable, one file name
        # per character; a Volume or a Slice is not, and said only "not iterable", on the first next()
        raise TypeError("predict_many takes an iterable of images; for one image or Slice use predict(), for a "
                        "stack of slices in one (N, H, W) array list(stack), for a scan's volume.slices, for a "
                        "folder braintumor.image_io.expand_inputs([folder])")
    if hint := scan_object_hint(sources):  # a Dataset iterated its data elements, a nibabel image raised its own
        raise TypeError(f"predict_many takes an iterable of images{hint}")  # "Cannot slice image objects"
    if isinstance(sources, np.lib.npyio.NpzFile):  # iterated its keys: "file not found: arr_0"
        raise TypeError("predict_many takes an iterable of images, not an .npz archive, which iterates its keys: pass "
                        "its arrays, [archive[key] for key in archive.files]")
    kind = type(sources)  # a table iterates its column names (pandas': "file not found: path") or columns (polars')
    if kind.__name__ == "DataFrame" and kind.__module__.partition(".")[0] in ("pandas", "polars"):
        raise TypeError("predict_many takes an iterable of images, not a DataFrame, which iterates its columns: pass "
                        'the column of images, df["path"]')
    # None, a number: "'NoneType' object is not iterable" from inside the stream, once iterated (not iter() here: a
    # torch DataLoader's starts its workers)
    if not isinstance(sources, Iterable) and not hasattr(type(sources), "__getitem__"):
        raise TypeError("predict_many takes an iterable of images (a list of paths, arrays, PIL images or Slices), "
                        f"not {type(sources).__name__}")


#: numpy's kinds of array that are no numbers, as people call them: a refusal said "not a <U1 array" of strings.
_KIND_WORDS: dict[str, str] = {
    "U": "an array of strings", "S": "an array of byte strings", "O": "an object array", "V": "a structured array",
    "M": "an array of dates and times", "m": "an array of time spans"}


def array_type_text(dtype: np.dtype) -> str:
    """A refused array's type in words, with its article: "an array of strings" (numpy's ``<U1``), "an object array"
    (it said "not a object array"), "a bool array", "an int8 array"."""
    if dtype.kind in _KIND_WORDS:
        return _KIND_WORDS[dtype.kind]
    return f"{'an' if str(dtype)[0] in 'aeiou' else 'a'} {dtype} array"


def _unmasked(image: np.ma.MaskedArray) -> np.ndarray:
    """A masked array's pixels with the masked ones at the darkest unmasked level, as NaN is (np.asarray dropped the
    mask: whatever lay under it, a fill of -32768 or 255, was read as pixels)."""
    if not np.ma.is_masked(image) or image.dtype.kind not in "uif":  # (other types are refused by their type)
        return np.asarray(np.ma.getdata(image))
    if image.count() == 0:
        raise ImageError("the masked array has no unmasked values")
    return np.asarray(image.filled(image.min()))


#: Said of a 3-D array that looks like a NIfTI volume's (slices last). Not "predict_many(np.moveaxis(volume, -1,
#: 0))": predict_many refused the array, and its slices, in nibabel's (x, y) order, were refused as on their side.
_READ_VOLUME = ("braintumor.volume_io.read_volumes reads its file, or the nibabel image itself, into upright slices: "
                "the array's lie on their side")
VOLUME_HINT = f" (a volume with its slices last, as nibabel gives one? {_READ_VOLUME})"


def _colour_type_hint(arr: np.ndarray) -> str:
    """What a float or signed (H, W, 2-4) array may be instead: float colour in [0, 1] or 0-255, or a volume of 2 to 4
    slices as nibabel gives one (``get_fdata()``: float64), which was told only that colour must be uint8."""
    unit, values = "", arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr[:0]
    if values.size and values.min() >= 0 and values.max() <= 255:  # "* 255" was said of 0-255 too: it wrapped around
        unit_range = bool(values.max() <= 1)
        unit = (f"colour in {'[0, 1]' if unit_range else '0-255'}? np.round(arr{' * 255' * unit_range})"
                ".astype(np.uint8) makes it 8-bit; ")
    return f" ({unit}{arr.shape[-1]} slices of a volume, as nibabel gives one? {_READ_VOLUME})"


def _file_bytes_hint(arr: np.ndarray | array.array | memoryview, how: str = "arr.tobytes()") -> str:
    """What to pass for an image file's bytes held as a 1-D array (``np.frombuffer(data, np.uint8)``, what
    ``cv2.imdecode`` takes, or the standard library's ``array("B", data)``): told only that its shape was no image's,
    or that an array.array was no image. "" for any other array. ``how``: the call that makes them bytes."""
    if getattr(arr, "ndim", 1) == 1 and arr.itemsize == 1 and (kind := image_kind(arr[:12].tobytes())):
        return f": it holds a {kind} file's bytes, which predict takes as bytes, {how}"
    return ""


def _buffer_hint(source: object) -> str:
    """What to pass for values held by the buffer protocol (an array.array, a ctypes array, an mmap of a file): a
    file read into one said only "not c_ubyte_Array_4096". Not read as a file's bytes, as bytes and a memoryview are:
    such a buffer holds pixels as often (a camera library's frame), and with no shape, read as a file they were told
    only that they were no image file. "" for an object with no buffer."""
    try:
        view = memoryview(source)
    except (TypeError, ValueError):  # no buffer; a closed mmap ("mmap closed or invalid")
        return ""
    with view:  # released: an mmap with a view left open cannot be closed
        stdlib = isinstance(source, array.array)
        x, how = ("arr", "arr.tobytes()") if stdlib else ("x", "bytes(x)")
        if hint := _file_bytes_hint(view, how):
            return hint
        held = f"an array.array of {len(view)} values" if stdlib else f"a buffer of {view.nbytes} bytes"
        return (f": {held}; pass an image file's bytes as bytes, {how}, pixels as a numpy array of the image's shape, "
                f"np.array({x}).reshape(height, width)")


def _layout_hint(shape: tuple[int, ...]) -> str:
    """How to pass a refused 3-D array of a common layout: torch's channel-first colour, a stack of slices, or a
    volume with its slices last as nibabel gives a NIfTI one, a batch as torch's DataLoader gives one (the shape alone
    did not say what to do)."""
    if len(shape) == 4:  # (N, 1, H, W) items are torch's (1, H, W) gray images; (N, C, H, W) colour is put last
        return (" (a batch of images? predict_many(list(" + ("np.moveaxis(batch, 1, -1)" if shape[1] in (2, 3, 4)
                                                            else "batch") + ")) predicts each)")
    if len(shape) != 3:
        return ""
    if shape[0] == 2:  # told only "channels first?": moved last, the second slice became the first's transparency
        return (" (two slices? predict_many(list(stack)) predicts each; gray + alpha channels first? "
                "np.moveaxis(arr, 0, -1) puts them last)")
    if shape[0] in (3, 4):
        return " (channels first? np.moveaxis(arr, 0, -1) puts them last)"
    if shape[0] < min(shape[1:]):
        return " (a stack of slices? predict_many(list(stack)) predicts each)"
    if shape[-1] < min(shape[:2]):
        return VOLUME_HINT
    return ""


#: id() of each lazily opened image read here -> its lock, while the image lives (:func:`_one_reader`).
_READERS: dict[int, threading.Lock] = {}
_READERS_HELD = threading.Lock()


def _one_reader(img: Image.Image) -> contextlib.AbstractContextManager:
    """A lock of this image's own while it still reads its file (opened lazily, pixels not read yet), else nothing.

    Pillow decodes such an image on first use, from its one file, and not for two threads at once: two threads
    predicting or explaining one image read the file in turns, and one failed ("cannot be read as grayscale
    (AttributeError)", or "the PIL image is closed") or could read pixels the other was writing. Per image, not one
    lock for all: threads with an image each still decode at once. Kept here by ``id()`` (a PIL image is unhashable)
    and dropped when the image is freed, before its number can be another's; not on the caller's image (it gained a
    private attribute)."""
    if getattr(img, "fp", None) is None:  # loaded, or made in memory: reading it changes nothing
        return contextlib.nullcontext()
    with _READERS_HELD:  # one lock, whoever comes first
        lock = _READERS.get(id(img))
        if lock is None:
            lock = _READERS[id(img)] = threading.Lock()
            weakref.finalize(img, _READERS.pop, id(img), None)
    return lock


def _gray_from_pil(img: Image.Image) -> tuple[np.ndarray, InputInfo]:
    width, height = img.size
    check_pixels(width, height)
    with _one_reader(img):
        # as the same file's bytes are: a stack is not one slice, a truncated TIFF is said to be
        if problem := several_frames(img) or deep_planes(img) or cut_short(img) or damaged_strips(img):
            raise ImageError(problem)
        try:
            with quiet_pillow(), libtiff_lines_dropped(img):  # a lazily loaded damaged file's warnings and lines
                gray, colour = to_gray(upright(wide_colour(img) or img))
        except ImageError:  # to_gray's own, already precise
            raise
        except Exception as exc:  # a lazily loaded file's decoder error, or one nobody foresaw: the input's error
            if _closed(img, exc):  # was "cannot be read as grayscale (AssertionError)"
                raise ImageError("the PIL image is closed (its pixels were never read, or close() freed them): "
                                 "predict it inside its 'with Image.open(...)' block, or pass a .copy() made there"
                                 ) from None
            if getattr(getattr(img, "fp", None), "closed", False):  # Image.open(f) in `with open(...) as f:`
                raise ImageError("the file the PIL image was opened from is closed, and Image.open reads pixels only "
                                 "when they are used: predict it inside the file's 'with open(...)' block, or call "
                                 "image.load() there") from None  # was "the file is damaged, cut short, ..."
            raise ImageError(decode_failure_text(exc)) from None
    if gray.ndim != 2:
        raise ImageError("image has an unsupported layout")
    # upright (its EXIF turned it a quarter), as it is seen: the stored size said "100 x 40" of a 40 x 100 image
    return gray, InputInfo(width=gray.shape[1], height=gray.shape[0], colourfulness=colour)


def _closed(img: Image.Image, exc: Exception) -> bool:
    """Whether ``exc`` came of a closed image: its file closed before it was loaded (Pillow asserts that it has
    pixels), or close() after it was loaded (Pillow's "Operation on closed image")."""
    if isinstance(exc, AssertionError):
        return isinstance(img, ImageFile.ImageFile) and img.fp is None
    return isinstance(exc, ValueError) and "closed image" in str(exc)
