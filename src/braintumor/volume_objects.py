"""What :func:`braintumor.volume_io.read_volumes` returns: a scan's :class:`Volume` of :class:`Slice` objects.

Apart from the readers (volume_io.py was near 300 lines; import these names from here) so that what a caller holds
is read in one place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

#: Smallest width and height (pixels) of a scan's slice the model classifies: less than an image's
#: (``image_io.MIN_SIDE``, 64), since a scan's matrix is its real resolution, not a shrunk copy (64 x 64 EPI and
#: diffusion, a thick-sliced volume's cut of 64 x 40), but not none: a 2 x 2 slice was scored. Routine head MR
#: images are 64 or more a side (a spectroscopy grid's 16 x 16 is no anatomy), and 328 Testing images shrunk to 24 px
#: gave 17 wrong answers without the lower-confidence flag (of 127 accepted), against 6 of 234 at 32 (``python
#: scripts/small_images.py --sizes 32,24,16,8 --limit 300``; at 16 px, 325 of them were refused). The NIfTI reader
#: cuts no plane under 32 by choice either (``nifti_planes.MIN_PLANE_SIDE``). Checked by ``Classifier.inspect_crop``.
MIN_SCAN_SIDE: int = 32


_INTEGERS = (int, np.integer)
_NUMBERS = (int, float, np.integer, np.floating)


@dataclass(frozen=True, eq=False)
class Slice:
    """One 2-D slice: uint8 pixels in display orientation and its safe metadata.

    Compared by value, its pixels too (``==``; the dataclass's own comparison raised "The truth value of an array
    ... is ambiguous", and so did two Volumes' of equal slices); not hashable: its pixels and metadata are mutable."""

    pixels: np.ndarray
    meta: dict = field(default_factory=dict)  # {"dicom": {...}} or {"nifti": {...}}, JSON-ready
    #: How colourful the frame was before it became gray (a colour DICOM's; 0 for gray): the input checks refuse a
    #: colour slice as they refuse a colour image file (:mod:`braintumor.colour`)
    colourfulness: float = 0.0
    #: Why the slice cannot be classified, known when it was read (a NIfTI volume's slice of no finite value, kept in
    #: place so that the slice numbers and positions after it hold): refused with it, where its pixels (black) were
    #: answered as a blank image with probabilities
    error: str | None = None
    #: The pixels decoded for it before it was resampled to square pixels (0: as many as it holds): what it takes of a
    #: scan budget is the more of the two (:func:`taken_pixels`)
    stored: int = 0
    #: Where a DICOM slice's ``meta["dicom"]["modality"]`` was read when the file has no Modality element:
    #: ("SOP class", "CT Image Storage") or ("Rescale Type", "HU"); None: its Modality element, or none
    modality_source: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        # made by hand with a wrong type, a Slice failed deep inside predict ("'>' not supported between 'str' and
        # 'float'" for colourfulness="x"): said here, naming the field; O(1) isinstance checks (one per slice read)
        if type(self.pixels) is not np.ndarray and not isinstance(self.pixels, np.ndarray):
            raise TypeError(f"a Slice's pixels are a numpy array, not {type(self.pixels).__name__}")
        if type(self.colourfulness) is not float and (not isinstance(self.colourfulness, _NUMBERS)
                                                      or isinstance(self.colourfulness, bool)):
            raise TypeError(f"a Slice's colourfulness is a number, not {type(self.colourfulness).__name__}")
        if not self.colourfulness >= 0:  # NaN too: a colour slice with it was checked as gray
            raise ValueError(f"a Slice's colourfulness is a number >= 0, not {self.colourfulness!r}")
        if self.error is not None and not isinstance(self.error, str):
            raise TypeError(f"a Slice's error is a str (or None), not {type(self.error).__name__}")
        if type(self.stored) is not int and (not isinstance(self.stored, _INTEGERS) or isinstance(self.stored, bool)):
            raise TypeError(f"a Slice's stored is an int, not {type(self.stored).__name__}")
        source = self.modality_source
        if source is not None and not (isinstance(source, tuple) and len(source) == 2
                                       and all(isinstance(s, str) for s in source)):
            raise TypeError(f"a Slice's modality_source is a tuple of two str (or None), not {source!r}")
        if not isinstance(self.meta, dict | None):  # predict of Slice(pixels, None) raised AttributeError: None is {}
            raise TypeError(f"a Slice's meta is a dict (or None), not {type(self.meta).__name__}")
        dicom = (self.meta or {}).get("dicom")  # read by predict's modality check ("'str' has no attribute 'get'")
        if dicom is not None and not isinstance(dicom, dict):
            raise TypeError(f"a Slice's meta['dicom'] is a dict (or None), not {type(dicom).__name__}")
        if dicom and not isinstance(modality := dicom.get("modality"), str | None):
            raise TypeError(f"a Slice's meta['dicom']['modality'] is a str (or None), not {type(modality).__name__}")
        # JSON-ready means strict JSON: a NaN or infinity from a header (DS strings and pixdim allow them) would be
        # written as NaN, which browsers' JSON.parse and most JSON readers refuse; unknown is null
        object.__setattr__(self, "meta", _finite(self.meta or {}))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Slice):
            return NotImplemented
        return (self.meta == other.meta and self.colourfulness == other.colourfulness and self.error == other.error
                and self.modality_source == other.modality_source and np.array_equal(self.pixels, other.pixels))

    __hash__ = None  # type: ignore[assignment]  # as Prediction's: an array and a dict are no key

    def __repr__(self) -> str:  # the pixels' size, not numpy's seven lines of zeros (a notebook shows reprs)
        return (f"Slice(pixels=<{_size(self.pixels)}>, meta={self.meta!r}, colourfulness={self.colourfulness!r}"
                + (f", error={self.error!r}" if self.error else "") + ")")


def _size(pixels: np.ndarray) -> str:
    """"256 x 256 uint8": an array as a person describes it."""
    shape = getattr(pixels, "shape", ())
    return f"{' x '.join(map(str, shape))} {getattr(pixels, 'dtype', type(pixels).__name__)}"


def _finite(value):
    """``value`` with every non-finite float, at any depth of dicts and lists, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


@dataclass(frozen=True)
class Volume:
    """The slices of one series or volume, in anatomical order, and notes on what was left out. Compared by value,
    but not hashable, as a Slice and a Prediction are not: its slices are a list."""

    path: str
    kind: str  # "dicom" or "nifti"
    slices: list[Slice]
    series: int | None = None  # index when one folder or zip held several series (or NIfTI members of one name)
    notes: tuple[str, ...] = ()
    error: str | None = None  # why a study's series was refused on its own (no slices), its others read all the same
    #: the one file a folder's series was read from (its ``path`` is the folder, as --resume knows the input): records
    #: name it as ``file``, so a single slice in a class folder below is scored by that folder
    file: str | None = None
    __hash__ = None  # type: ignore[assignment]  # hash() said "unhashable type: 'list'"; isinstance(v, Hashable) True

    def __repr__(self) -> str:  # one line: the default held each slice's repr (a 150-slice volume: 900 lines)
        sizes = sorted({_size(s.pixels) for s in self.slices})
        held = f"{len(self.slices)} slice{'s' * (len(self.slices) != 1)}" + (f" of {sizes[0]}" if len(sizes) == 1 else
                                                                           " of several sizes" if sizes else "")
        return (f"Volume(path={self.path!r}, kind={self.kind!r}, slices=<{held}>, series={self.series!r}, "
                f"notes={self.notes!r}" + (f", error={self.error!r}" if self.error else "") + ")")


def taken_pixels(volumes: Iterable[Volume]) -> int:
    """What ``volumes`` take of a pixel budget: each slice's pixels decoded or held, whichever more, as the readers'
    checks count them (:func:`braintumor.slice_pixels.budget_pixels`). The pixels held alone let a volume of pixels
    merged to square ones (1 x 50 mm) decode fifty times what a zip or web request had left, and the next as many."""
    return sum(max(s.pixels.size, s.stored) for v in volumes for s in v.slices)
