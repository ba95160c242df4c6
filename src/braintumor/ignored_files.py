"""The note on a dataset folder's files that are not images by their name (a scanner's DICOM files, a NIfTI, notes).

Its own module because two say it: :mod:`braintumor.data`, where a class folder holds only such files (train's
"no images" error), and :mod:`braintumor.evaluation_scope`, which imports ``data`` (the notes of what an evaluation
leaves out): neither may leave one out without a word.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .wording import counted

#: Endings of files that may be DICOM or NIfTI, which only ``braintumor predict`` reads (a scanner's DICOM files
#: often have no ending), and what the notes on skipped files add about them.
VOLUME_ENDINGS: frozenset[str] = frozenset({".dcm", ".dicom", ".nii", ".gz", "no ending"})
VOLUME_HINT = ("; DICOM and NIfTI files are read by 'braintumor predict' only (see docs/SCANS.md), "
               "evaluate and train read image files")


def ignored_endings(ignored: Sequence[Path]) -> list[str]:
    """The endings of the files ``ignored``, sorted; "no ending" for none."""
    return sorted({p.suffix.lower() or "no ending" for p in ignored})


def ignored_text(ignored: Sequence[Path]) -> str:
    """One line naming the files ``ignored`` (not images by their name: :func:`~braintumor.image_files.not_images`),
    and where a hospital's DICOM or NIfTI files can be read."""
    endings, one = ignored_endings(ignored), len(ignored) == 1
    said = "is not an image by its" if one else "are not images by their"
    return (f"skipped {counted(len(ignored), 'file')} that {said} name ({', '.join(endings)}), e.g. {ignored[0]}"
            + (VOLUME_HINT if set(endings) & VOLUME_ENDINGS else ""))
