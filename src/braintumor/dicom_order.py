"""A DICOM series' frames in anatomical order, and what was left out of it (a localizer) or is doubtful.

Why its own module: ordering is geometry alone (positions, orientations, Image Type, Instance Number), asked once per
series by :mod:`braintumor.dicom_series`, which reads and decodes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Protocol

import numpy as np
from pydicom.dataset import Dataset

from .dicom_frames import frame_view, header_number, header_numbers
from .dicom_orientation import AS_STORED, NO_NORMAL, UNREADABLE, conventional_normal, display_turn, unit_normal
from .image_io import ImageError
from .wording import counted

#: What a localizer (scout) image sent alone is told: it is planned on, not diagnosed from.
LOCALIZER_ONLY = "a localizer (scout) image, not a diagnostic slice"

Frame = tuple[Dataset, str, int, int]  # (instance, file name, frame index, frames in the instance)


class Surveyed(Protocol):
    """What a series' survey knows of one file, before any pixel is decoded (``dicom_survey.SurveyFile``)."""

    @property
    def frames(self) -> int: ...
    @property
    def which(self) -> str: ...  # the series' number and description, as a note names it
    @property
    def scout(self) -> bool: ...  # :func:`is_localizer`
    @property
    def planes(self) -> tuple[int | None, ...]: ...  # :func:`file_planes`


def leave_out_localizers(ordered: list[list[Surveyed]], single: bool, notes: tuple[str, ...]) -> tuple[str, ...]:
    """Take the series (lists of files) of localizers only out of ``ordered``, and a note for each: their scouts
    were classified as slices. A localizer series: every file marked LOCALIZER in Image Type, or (a 3-plane localizer,
    marked or not) most of its files oriented, in the three planes, none holding half of those or more (2 axial, 1
    coronal and 1 sagittal image are as likely 2 slices with a scout of each other plane: read as such, the scouts left
    out and said by :func:`frame_order`; 1 + 1 + 1, 2 + 2 + 1, 3 + 3 + 3 are localizers). ImageError when
    nothing else is left (``single``: one file; ``notes``: why other files were skipped, said after)."""
    why = {id(group): _localizer_why(group) for group in ordered}
    scouts = [group for group in ordered if why[id(group)]]
    images = [sum(f.frames for f in group) for group in scouts]
    if scouts and len(scouts) == len(ordered):
        marked = sum(n for group, n in zip(scouts, images, strict=True) if why[id(group)] == _MARKED)
        said = ([f"{counted(marked, 'image')} marked LOCALIZER in Image Type"] if marked else []) + (
            [f"{counted(sum(images) - marked, 'image')} {_PLANES}"] if sum(images) > marked else [])
        raise ImageError(f"{LOCALIZER_ONLY} (Image Type says LOCALIZER)" if single and images == [1] and marked else
                         "only localizer (scout) images, not diagnostic slices: " + " and ".join(said)
                         + "".join(f"; {note}" for note in notes))
    ordered[:] = [group for group in ordered if not why[id(group)]]
    return tuple(f"left out a series of {counted(n, 'localizer (scout) image')}{group[0].which}: "
                 + ("" if why[id(group)] == _MARKED else _PLANES + ", ") + "not diagnostic slices"
                 for group, n in zip(scouts, images, strict=True))


_MARKED, _PLANES = "marked", "in the three planes, none holding half of them or more"


def localizer_images(groups: Iterable[list[Surveyed]], within: int = 0) -> int:
    """The images of the series :func:`leave_out_localizers` would take out of ``groups`` as they stand, or (``within``
    > 0) could once the rest of their files are read, as a localizer of at most ``within`` images (:func:`_may_spread`),
    ``within`` at most in all: a survey that stops past a limit counts them apart, and refuses an input of more
    localizer images than that (a 510-slice series beside its 3-plane localizer is within 512; counted only once its
    third plane was read, its axial scouts read first had the input refused)."""
    may = sum(f.frames for group in groups if _localizer_why(group) or _may_spread(group, within) for f in group)
    return min(may, within) if within else may


def _may_spread(group: list[Surveyed], within: int) -> bool:
    """Whether more files could make ``group`` a 3-plane localizer (:func:`_localizer_why`) of at most ``within``
    images: the other planes' frames must outnumber its largest plane's, and its oriented frames those without."""
    planes = Counter(p for f in group for p in f.planes if p is not None)
    unoriented = sum(len(f.planes) for f in group) - sum(planes.values())
    return max(2 * max(planes.values(), default=0), unoriented) + 1 + unoriented <= within


def _localizer_why(group: list[Surveyed]) -> str | None:
    """Why one series' files are a localizer's (:func:`leave_out_localizers`), or None."""
    if all(f.scout for f in group):
        return _MARKED
    planes = Counter(p for f in group for p in f.planes if p is not None)
    oriented = sum(planes.values())  # a frame without orientation is in no plane: it holds none of them
    # and the oriented frames most of the series: one scout per plane among slices without orientation is no localizer
    # and no plane holding as many as the other two together: 2 + 1 + 1 was refused whole, 2 slices and 2 scouts alike
    spread = len(planes) == 3 and 2 * max(planes.values()) < oriented
    return _PLANES if spread and 2 * oriented > sum(len(f.planes) for f in group) else None


def file_planes(ds: Dataset, frames: int) -> tuple[int | None, ...]:
    """The plane of each of a file's ``frames``, as the axis its normal is nearest (0 sagittal, 1 coronal, 2 axial);
    None without a usable orientation. A survey's: a 3-plane localizer is told by its frames' planes before decoding,
    an enhanced file's by each frame's own (one file of three planes had its axial scout classified); other files'
    frames lie in their first one's."""
    own = bool(ds.get("PerFrameFunctionalGroupsSequence"))
    planes = []
    for i in range(frames if own else 1):
        normal = unit_normal(header_numbers(_orientation(ds, i), 6))
        planes.append(int(np.argmax(np.abs(normal))) if normal is not None else None)
    return tuple(planes) if own else tuple(planes) * frames


def _orientation(ds: Dataset, index: int) -> object:
    """Frame ``index``'s Image Orientation (Patient) as :func:`frame_view` finds it, without copying the frame's other
    attributes (frame_view for each frame of a 1000-frame file took about a second)."""
    for seq_kw, i in (("PerFrameFunctionalGroupsSequence", index), ("SharedFunctionalGroupsSequence", 0)):
        seq = ds.get(seq_kw)
        items = seq[i].get("PlaneOrientationSequence") if seq and len(seq) > i else None
        if items and "ImageOrientationPatient" in items[0]:
            return items[0].ImageOrientationPatient
    return ds.get("ImageOrientationPatient")


def frame_order(group: list[tuple[Dataset, str, int]]) -> tuple[list[Frame], tuple[str, ...]]:
    """Every frame of one series in anatomical order, and notes on what was left out or is doubtful.

    Frames, not files: a multi-frame file's frames carry their own positions (they were kept in stored order).
    Along the slice normal, pointing as the conventional view's does (inferior to superior for axial slices, as
    NIfTI's), when every frame has a position and an orientation; frames of another orientation than the series'
    most common one (a localizer filed in the series: frames marked LOCALIZER count last, a tie goes to axial; a
    normal reversed is the same plane, so the same orientation) are left out and counted (they set the normal when
    they came first), and so are frames marked LOCALIZER in that orientation unless nothing else is there; frames
    that share a position (echoes, repeats, a duplicate file) are kept and said. Without full geometry (a frame without
    a position, or an orientation, or one of no slice normal: its row and column parallel or zero, or one that cannot
    be read), said: by Instance Number, then file name, then frame, frames marked LOCALIZER left out unless nothing
    else is there (the caller refuses a series of localizers only:
    :func:`braintumor.dicom_series.iter_dicom_series`)."""
    frames = [(ds, name, i, n) for ds, name, n in group for i in range(n)]
    views = [frame_view(ds, i) for ds, _, i, _ in frames]
    where = [header_numbers(v.get("ImagePositionPatient"), 3) for v in views]
    facing = [header_numbers(v.get("ImageOrientationPatient"), 6) for v in views]
    # present but not 6 finite numbers (NaN, 5 values, text): shown as stored and ordered as without one, and said so
    unread = [o is None and _present(v.get("ImageOrientationPatient")) for v, o in zip(views, facing, strict=True)]

    def by_number(k: int) -> tuple:
        ds, name, i, _ = frames[k]
        number = header_number(ds.get("InstanceNumber"), int)
        # names in natural order: IM2 before IM10 (as text, IM10 came first)
        natural = tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name) if t)
        return (number if number is not None else 0, natural, i)

    order = list(range(len(frames)))
    scout = np.array([is_localizer(ds, i) for ds, _, i, _ in frames])
    # without a plane to tell them by, frames marked LOCALIZER among others were classified as slices
    plain = [k for k in order if not scout[k]] or order
    dropped = (f"left out {counted(len(order) - len(plain), 'image')} marked LOCALIZER",) if len(plain) < len(order) \
        else ()
    normals = [unit_normal(o) for o in facing]
    # a degenerate orientation (row and column parallel or zero): no normal to sort along, as without one, and said so
    # (unsaid, the Instance Number order read as anatomical); with or without a position (a legacy multi-frame file's
    # frames have none past the first without a normal to derive them along: they were said to lack an orientation)
    no_normal = [o is not None and n is None for o, n in zip(facing, normals, strict=True)]
    flat = sum(no_normal)
    missing = sum(not f and not u and (p is None or o is None)
                  for p, o, f, u in zip(where, facing, no_normal, unread, strict=True))
    if missing or flat or any(unread):  # one file's frames share its Instance Number: kept in its order
        return [frames[k] for k in sorted(plain, key=by_number)], dropped + _unordered(
            missing, flat, sum(unread), len(frames), len(group) == 1)
    units = np.array(normals)
    # within ~2.6 degrees (rounding the normals split near-equal ones), either way: a frame stored with its row or
    # column direction reversed lies in the same plane (it was left out as facing another way, "a localizer?")
    alike = np.abs(units @ units.T) > 0.999
    # the acquisition's plane: the one of the most frames not marked LOCALIZER, then of the most frames, then axial (a
    # localizer listed first kept a one-slice series' only image out)
    real = alike @ ~scout
    axial = np.argmax(np.abs(units), axis=1) == 2
    main = max(order, key=lambda k: (int(real[k]), int(alike[k].sum()), bool(axial[k])))
    keep = [k for k in order if alike[main, k]]
    notes = []
    if len(keep) < len(frames):
        notes.append(f"left out {counted(len(frames) - len(keep), 'image')} facing another way than the series' "
                     f"{len(keep)} (a localizer?)")
    if real[main] and scout[keep].any():  # a scout in the series' own plane: not a slice of it
        notes.append(f"left out {counted(int(scout[keep].sum()), 'image')} marked LOCALIZER in the series' plane")
        keep = [k for k in keep if not scout[k]]
    turn = display_turn(facing[main])  # ordered along the normal of the plane the slices are shown in
    same_way = units[keep] * np.sign(units[keep] @ units[main])[:, None]  # reversed normals must not cancel out
    normal = conventional_normal(same_way.mean(axis=0), turn.plane if turn else None)
    along = {k: round(float(np.dot(where[k], normal)), 4) for k in keep}
    keep.sort(key=lambda k: (along[k], *by_number(k)))
    shared = sum(n for n in Counter(along.values()).values() if n > 1)
    if shared:
        notes.append(f"{shared} images share a position with another (echoes, repeats or duplicate files?): each is "
                     "classified")
    return [frames[k] for k in keep], tuple(notes)


def _unordered(missing: int, flat: int, unread: int, total: int, one_file: bool) -> tuple[str, ...]:
    """The note on ``total`` frames of a series (``one_file``: of one file) without the geometry to order them:
    ``missing`` without a position or orientation, ``flat`` with :data:`NO_NORMAL`, ``unread`` with
    :data:`UNREADABLE`; the order they are then in, and how those of no normal or an unreadable one are shown (as
    stored). One wording for all: a multi-frame file's and a series' said only their order, a single image's (nothing
    to order; one without an orientation is said nothing of) only how."""
    kinds = [(flat, NO_NORMAL, "of no slice normal"), (unread, UNREADABLE, "whose orientation cannot be read")]
    if total == 1:
        return tuple(f"1 image with {said}: {AS_STORED}" for n, said, _ in kinds if n)
    whole = counted(total, "frame" if one_file else "image")
    why = ([f"{missing} of {whole} without a position or orientation"] if missing else []) + [
        f"{n} of {whole} with {said}" for n, said, _ in kinds if n]
    done = "kept in the file's frame order" if one_file else "ordered by Instance Number"
    if stored := flat + unread:
        which = " or ".join(short for n, _, short in kinds if n)
        done += f" and {AS_STORED}" if stored == total else \
            f"; {'the one' if stored == 1 else 'those'} {which} {AS_STORED}"
    return (" and ".join(why) + ": " + done,)


def _present(value: object) -> bool:
    """Whether a header element holds a value at all (an empty one is as absent: nothing is said of it)."""
    try:
        return len(value) > 0  # type: ignore[arg-type]
    except TypeError:  # a single number, where several belong; or None
        return value is not None


def is_localizer(ds: Dataset, frame: int | None = None) -> bool:
    """Whether Image Type marks the image as a localizer (a scout, planned on, not diagnosed from); or, for an enhanced
    multi-frame file (Image Type MIXED), Frame Type marks ``frame``, or with ``frame`` None every frame (their
    localizer frames were classified as slices)."""
    try:
        if _says_localizer(ds.get("ImageType")):
            return True
        if frame is not None:
            return _says_localizer(_frame_type(ds, frame))
        per_frame = ds.get("PerFrameFunctionalGroupsSequence") or ()
        return bool(per_frame) and all(_says_localizer(_frame_type(ds, i)) for i in range(len(per_frame)))
    except Exception:  # an unreadable Image Type only breaks a tie: never the series
        return False


def _says_localizer(value: object) -> bool:
    """Whether one of an Image (Frame) Type's values is LOCALIZER (the standard's defined term, which GE's scouts also
    carry; Siemens' are unmarked: :func:`leave_out_localizers` tells them by their planes): a whole value, blanks and
    case aside. A value that merely holds the word (NOT_LOCALIZER) is not one: a slice so typed was left out."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    values = value.split("\\") if isinstance(value, str) else () if value is None else value
    return any(str(v).strip().upper() == "LOCALIZER" for v in values)


def _frame_type(ds: Dataset, index: int) -> object:
    """Frame ``index``'s Frame Type: its functional group's MR (CT, ...) Image Frame Type, else the shared one."""
    for seq_kw, i in (("PerFrameFunctionalGroupsSequence", index), ("SharedFunctionalGroupsSequence", 0)):
        seq = ds.get(seq_kw)
        if seq and len(seq) > i:
            for element in seq[i]:
                if element.keyword.endswith("FrameTypeSequence") and element.VR == "SQ" and element.value:
                    return element.value[0].get("FrameType")
    return None
