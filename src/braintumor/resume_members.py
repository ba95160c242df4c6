"""Which input a ``--resume`` FILE's record is of: a zip's NIfTI member is written as ``ZIP:MEMBER``.

Why its own module: a record's path alone cannot say it. ``scans:a.jpg`` may be an image of that name or the member
``a.jpg`` of an input ``scans``, so a record is a zip's member's only where its name says a NIfTI member (what the zip
reader reads of it, :func:`~braintumor.zip_io.iter_zip`) and that zip lists it; read once per zip, from its central
directory alone. Taken as ``scans``'s, an image ``scans:a.jpg`` scored before a DICOM folder or zip ``scans`` made
--resume skip that folder or zip for good.
"""

from __future__ import annotations

import os
import zipfile

from .file_names import os_text

#: The member names a zip's records are written under (``zip_io.iter_zip`` reads these as NIfTI, the rest unscored).
NIFTI_ENDINGS = (".nii", ".nii.gz")


class Members:
    """:meth:`input_of` for a run's records, each zip's listing read once (a FILE of a zip's 500 slices)."""

    def __init__(self) -> None:
        self.listings: dict[str, frozenset[str]] = {}

    def listed(self, name: str) -> frozenset[str]:
        """The member names the zip ``name`` (a record's path) lists; none for a folder, a file that is no zip, or
        one that cannot be read now."""
        if name not in self.listings:
            path, names = os_text(name), frozenset()
            if os.path.isfile(path):
                try:
                    with zipfile.ZipFile(path) as archive:
                        names = frozenset(archive.namelist())
                except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
                    pass
            self.listings[name] = names
        return self.listings[name]

    def input_of(self, path: str) -> str:
        """The input a record ``path`` is of: the zip ``ZIP`` of ``ZIP:MEMBER`` where ``MEMBER`` is a NIfTI member
        it lists (a zip's name and a member's may hold ``:`` too: each split is tried), else ``path`` itself."""
        at = path.find(":")
        while at > 0:
            zip_name, member = path[:at], path[at + 1:]
            if member.lower().endswith(NIFTI_ENDINGS) and member in self.listed(zip_name):
                return zip_name
            at = path.find(":", at + 1)
        return path
