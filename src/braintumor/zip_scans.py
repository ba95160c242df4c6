"""A zip's scans, once :mod:`braintumor.zip_io` has checked its limits and sorted its members, read as volumes (and
what a folder's share with them: its NIfTI files within one budget, its unread DICOM files a record).

Why its own module: how the scans of one zip share what an input may hold (its slices and pixels: one budget for them
all, or each series and member within its own) is one idea apart from the archive's zip-bomb limits, and so are what
follows from it: a member's error said with its name, members of one name numbered apart, and the zip's notes on
each volume it gives.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .dicom_sniff import file_head
from .image_io import ImageError
from .member_headers import header_takes, map_like
from .volume_io import BudgetError, budget_error
from .volume_objects import Volume, taken_pixels
from .wording import counted

#: A member's reader: (the path its volumes are called, the slices and pixels it may take) -> its volumes.
Reader = Callable[[str, int, int], Iterable[Volume]]


def zip_volumes(dicoms: list[tuple[str, Callable[[], bytes]]], niftis: list[zipfile.ZipInfo],
                load: Callable[..., bytes], notes: tuple[str, ...], display: str, max_slices: int,
                max_pixels: int, per_input: bool) -> Iterator[Volume]:
    """The volumes of a zip's DICOM files (name and loader each) and NIfTI members (read with ``load``, which holds
    the zip's limits; ``head=``: a member's first bytes only), each carrying the zip's ``notes``. ``per_input``: the
    slice and pixel limits hold for all of them together (its NIfTI volumes first), else for each series and member on
    its own."""
    from .dicom_series import iter_dicom_series
    from .nifti_io import read_nifti

    named = Counter(f"{display}:{m.filename}" for m in niftis)
    alone = not dicoms and len(niftis) == 1
    members = [(f"{display}:{m.filename}", m.filename, lambda w, s, p, m=m: [read_nifti(load(m), w, s, p)])
               for m in niftis]
    if per_input:
        if len(niftis) > 1:
            _refuse_unread(niftis, load, display, max_slices, max_pixels)
        volumes = _told_apart(member_niftis(members, "zip", max_slices, max_pixels, (0, 0), alone), named)
        yield from _dicoms_left(volumes, dicoms, notes, display, max_slices, max_pixels)
        return
    if dicoms:  # each series within the limits on its own, one at a time; a zip of one series is refused whole
        try:
            yield from (_with_notes(v, notes) for v in iter_dicom_series(display, dicoms, max_slices, max_pixels,
                                                                         per_input=False, others=len(niftis),
                                                                         besides=() if niftis else notes))
        except ImageError as exc:
            yield _with_notes(unread_dicoms(exc, niftis, display), notes)
    for v in _told_apart(member_niftis(members, "zip", max_slices, max_pixels, None, alone), named):
        yield _with_notes(v, notes)


def member_niftis(members: Iterable[tuple[str, str, Reader]], container: str, max_slices: int, max_pixels: int,
                  taken: tuple[int, int] | None, alone: bool) -> Iterator[Volume]:
    """The NIfTI volumes of a zip's members or a folder's files (``container``: "zip" or "folder"), in order, each
    member given as (the path its volumes are called, its name in the container, its reader given the slices and
    pixels it may take). ``taken``: what the container's scans before took (its DICOM series, in a folder), None unless
    the limits hold for all together: then each member is read with what those before it left, so that one past it is
    refused on its header, undecoded; else each within its own, one past it a Volume with its ``error``, unless it is
    ``alone`` in the container; a member unreadable for another reason (a segmentation map beside the scans) is such a
    Volume too, unless alone."""
    return _walked(members, container, max_slices, max_pixels, taken, alone)


def refuse_unread_files(files: list[tuple[Path, str]], display: str, max_slices: int, max_pixels: int,
                        taken: tuple[int, int]) -> None:
    """A folder's NIfTI files (each path and its name below the folder) past one budget (``read_volumes(per_input=
    True)``) with what its DICOM series ``taken``, refused before any is decoded, as a zip's members are: three of
    200 slices each had two decoded, 400 slices, before the third was refused."""
    from .volume_io import read_path

    def load(member: _FileMember, head: int = 0) -> bytes:
        return file_head(member.path, head) if head else read_path(member.path)

    members = [_FileMember(name, k, path) for k, (path, name) in enumerate(files)]
    _refuse_unread(members, load, display, max_slices, max_pixels, "folder", taken)


@dataclasses.dataclass(frozen=True)
class _FileMember:
    """A folder's file as :func:`_refuse_unread` walks a zip's member (``header_offset``: what tells it apart)."""

    filename: str
    header_offset: int
    path: Path

    @property
    def file_size(self) -> int:  # 0 where it cannot be had: reading it says why
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


def _refuse_unread(niftis: list, load: Callable[..., bytes], display: str, max_slices: int, max_pixels: int,
                   container: str = "zip", taken: tuple[int, int] = (0, 0)) -> None:
    """A zip's NIfTI members (a folder's files: ``container``) past one budget together, with what its scans before
    ``taken``, refused before any is decoded, as :func:`member_niftis` would refuse them (two 512 x 512 x 256 members
    were decoded, 3.6 s, before the third's header was past the limit). Only where their headers together are past it
    are they read further: the first :data:`CHECKED_MEMBERS` inflated and their voxels checked, uncut, in turn, since
    a member refused for its values (a segmentation map beside the scans) takes nothing of the budget; those after on
    their headers, but for one that may be a map (:func:`~braintumor.member_headers.map_like`)."""
    from .nifti_io import nifti_takes

    heads: dict[int, bytes] = {}  # each member's header bytes, read once for both walks

    def first(member: zipfile.ZipInfo, head: int = 0) -> bytes:
        if not head:
            return load(member)
        if member.header_offset not in heads:
            heads[member.header_offset] = load(member, head=head)
        return heads[member.header_offset]

    slices, pixels = taken
    known: dict[int, tuple[int, int]] = {}  # what each member's header said it takes: not parsed again below
    for m in niftis:  # until their headers together are past the budget: those after are read in the walk below
        with contextlib.suppress(ImageError):  # refused on its header when it is read: it takes nothing
            n, p = known[m.header_offset] = header_takes(m, first)
            slices, pixels = slices + n, pixels + p
        if slices > max_slices or pixels > max_pixels:
            break
    if slices <= max_slices and pixels <= max_pixels:
        return
    unread: list[str] = []  # the members counted by their headers, their voxels unread

    def takes(i: int, m: zipfile.ZipInfo, where: str, s: int, p: int) -> tuple[int, int]:
        if i < CHECKED_MEMBERS or map_like(m, first):
            return nifti_takes(first(m), where, s, p, values=True)
        unread.append(m.filename)
        if (said := known.get(m.header_offset)) and said[0] <= s and said[1] <= p:
            return said
        return header_takes(m, first, where, s, p)  # its refusal, in its own words

    def note() -> str:  # what the refusal rests on, and what to do, where members were counted unread
        them = "members" if container == "zip" else "files"
        return (f", {len(unread)} of the {container}'s {len(niftis)} NIfTI {them} counted by their headers alone "
                f"(past its first {CHECKED_MEMBERS}, only {them} named or marked as label maps are read to find one, "
                f"as a map takes nothing): send them in several {container}s") if unread else ""

    checked = [(f"{display}:{m.filename}", m.filename, lambda w, s, p, i=i, m=m: takes(i, m, w, s, p))
               for i, m in enumerate(niftis)]
    for _ in _walked(checked, container, max_slices, max_pixels, taken, False, dry=True, note=note):
        pass


#: NIfTI members of a zip past a web request's budget by their headers whose voxels are inflated and checked, in turn,
#: for being refused by their values (a segmentation map beside the scans takes nothing of the budget); those after are
#: counted by their headers unless they may be maps (:func:`~braintumor.member_headers.map_like`). Checked all, a zip of
#: 600 two-slice members past 512 slices had 257 inflated before it was refused: 6 to 11 s of 256 x 256 slices, 1.4 to
#: 2.2 s now (most of it their 257 headers), on a busy 2-core machine; memory was one member's at a time either way.
CHECKED_MEMBERS: int = 32


def _walked(members: Iterable[tuple[str, str, Callable]], container: str, max_slices: int, max_pixels: int,
            taken: tuple[int, int] | None, alone: bool, dry: bool = False,
            note: Callable[[], str] = str) -> Iterator[Volume]:
    """:func:`member_niftis`'s walk; ``dry``: each reader gives the slices and pixels its member takes, none read;
    ``note``: what a refusal of the whole container adds after its limit."""
    used, pixels = taken or (0, 0)
    for where, member, read in members:
        try:
            got = read(where, max_slices - used, max_pixels - pixels)
            volumes = [] if dry else list(got)
        except ImageError as exc:
            if not alone and (not isinstance(exc, BudgetError) or taken is None):  # its own error, others read
                if not dry:
                    yield Volume(where, "nifti", [], None, (), error=str(exc))
                continue
            if isinstance(exc, BudgetError) and exc.unit == "pixels" and pixels:
                # past what the members before it left: the input's limit, said as the input's ("the limit is 65,536")
                raise budget_error(f"the {container} holds more than {max_pixels:,} pixels (at {member})", 0,
                                   max_pixels, "pixels", " per input", note()) from None
            if isinstance(exc, BudgetError) and exc.unit == "slices" and used:
                if exc.count <= max_slices:  # the input's limit, said as the input's (its members may fit)
                    raise budget_error(f"the {container} holds more than {max_slices:,} slices (at {member})", 0,
                                       max_slices, per=" per input", after=note()) from None
                exc = budget_error(exc.held, exc.count, max_slices, after=exc.after)  # past it alone: as it is alone
            raise _member_error(exc, member) from None
        if taken is not None:
            slices, made = got if dry else (sum(len(v.slices) for v in volumes), taken_pixels(volumes))
            used, pixels = used + slices, pixels + made
        yield from volumes


def _member_error(exc: ImageError, member: str) -> ImageError:
    """``exc`` of a zip's member or a folder's file, said with its name (which one, of several), of its own type and
    parts: a NIfTI member past a web request's slices or pixels was a bare ImageError, and the request's refusal could
    not say what its earlier scans had taken, as it does of the same NIfTI file sent alone."""
    error = copy.copy(exc)
    error.args = (f"{member}: {exc}",)
    if isinstance(error, BudgetError) and error.held:
        error.held = f"{member}: {error.held}"
    return error


def _dicoms_left(volumes: Iterable[Volume], dicoms: list, notes: tuple[str, ...], display: str, max_slices: int,
                 max_pixels: int) -> list[Volume]:
    """One budget for the whole zip: its NIfTI volumes', then what they left to its DICOM series."""
    from .dicom_series import read_dicom_series

    volumes = list(volumes)
    if dicoms:
        used, pixels = sum(len(v.slices) for v in volumes), taken_pixels(volumes)

        def past(unit: str) -> BudgetError:  # the input's limit, not what the NIfTI members left ("the limit is 0"),
            # in its unit: the members' slices and pixels both stand before it ("the limit is 512 per input" of which?)
            held = (f"the zip's DICOM files are past what its NIfTI members ({counted(used, 'slice')}, {pixels:,} "
                    "pixels) left")
            return budget_error(held, 0, max_slices if unit == "slices" else max_pixels, unit, f" {unit} per input")

        if used >= max_slices or pixels >= max_pixels:  # nothing left: it read "1 frames; the limit is 0"
            raise past("slices" if used >= max_slices else "pixels")
        try:
            series = read_dicom_series(display, dicoms, max_slices - used, max_pixels - pixels,
                                       besides=() if volumes else notes)
        except BudgetError as exc:  # a limit the NIfTI members lowered: said as the zip's; a series past what any
            if used and not exc.whole:  # input may hold is refused as it is alone (the zip without them would be too)
                raise past(exc.unit) from None
            raise
        except ImageError as exc:
            series = [unread_dicoms(exc, volumes, display)]
        volumes = series + volumes
    return [_with_notes(v, notes) for v in volumes]  # each volume of the zip says what the zip left out


def unread_dicoms(exc: ImageError, niftis: list, display: str) -> Volume:
    """DICOM files none of which is read (not for a limit) beside NIfTI members (of a zip, or files of a folder): an
    error record, as a NIfTI member's own error is (a zip of a head.nii.gz and an unreadable .dcm was refused whole);
    the input's, if its only scans."""
    if not niftis or isinstance(exc, BudgetError):
        raise exc
    return Volume(display, "dicom", [], None, (), error=str(exc))


def _told_apart(volumes: Iterable[Volume], named: Counter[str]) -> Iterator[Volume]:
    """NIfTI members of one name (a zip may list a name twice: appended to, or made so) numbered as series, in the
    zip's order, and said: their results shared one path and nothing else, so they could not be told apart."""
    seen: Counter[str] = Counter()
    for v in volumes:
        if named[v.path] > 1:
            j = seen[v.path]
            seen[v.path] += 1
            v = dataclasses.replace(v, series=j, notes=(f"the zip holds {named[v.path]} members of this name: this "
                                                        f"is number {j + 1} of them, in the zip's order", *v.notes))
        yield v


def _with_notes(volume: Volume, notes: tuple[str, ...]) -> Volume:
    return dataclasses.replace(volume, notes=volume.notes + notes)
