"""A NIfTI member of a zip (or a folder's file) judged by its first bytes, before any voxel is inflated: the slices
and pixels its header says it takes, and whether it may be a label map (read for its values, as a map takes nothing
of a request's budget).

Why its own module: :mod:`braintumor.zip_scans` refuses a zip's members past one budget on these before decoding any;
what one member's header says is apart from how the members share the budget.
"""

from __future__ import annotations

import re
import sys
import zipfile
from collections.abc import Callable

from .image_io import ImageError
from .volume_io import BudgetError

#: Words in a member's name that may mark it a label or segmentation map (BraTS' _seg, a brain mask, aseg, an atlas).
MAP_WORDS = re.compile(r"seg|mask|label|atlas|parc|roi", re.IGNORECASE)


def map_like(member: zipfile.ZipInfo, load: Callable[..., bytes]) -> bool:
    """Whether a member's name (:data:`MAP_WORDS`) or its header's intent_code
    (:data:`~braintumor.nifti_values.LABEL_INTENTS`) says it may be a label map: read for its values past
    :data:`~braintumor.zip_scans.CHECKED_MEMBERS`, as a map takes nothing of the budget."""
    from .nifti_header import intent_code
    from .nifti_values import LABEL_INTENTS

    return bool(MAP_WORDS.search(member.filename)) or intent_code(load(member, head=HEADER_READ)) in LABEL_INTENTS


#: A member's first bytes read for its NIfTI header: 348 (NIfTI-1) or 540 (NIfTI-2) bytes and the extension flag,
#: or those gzipped, behind a gzip header (a few hundred bytes once deflated).
HEADER_READ: int = 4096


def header_takes(member: zipfile.ZipInfo, load: Callable[..., bytes], where: str = "",
                 max_slices: int = sys.maxsize, max_pixels: int = sys.maxsize) -> tuple[int, int]:
    """The slices and pixels a NIfTI member takes by its header (:func:`~braintumor.nifti_io.nifti_takes`, refused
    past ``max_slices`` or ``max_pixels``), read from its first :data:`HEADER_READ` bytes: inflated whole to be
    checked, a plain .nii member was inflated twice (checked, then read). Whole only where those do not tell (a gzip
    header with a long name, a broken header)."""
    from .nifti_io import nifti_takes

    where = where or member.filename
    first = load(member, head=HEADER_READ)
    try:
        return nifti_takes(first, where, max_slices, max_pixels)
    except BudgetError:
        raise
    except ImageError:
        if len(first) >= member.file_size:  # the member whole: its own error
            raise
    return nifti_takes(load(member), where, max_slices, max_pixels)
