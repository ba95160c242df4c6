"""Which files below a folder are scans: DICOM files (by content, whatever their name) and NIfTI files, found by a
listing (one 132-byte read per file that could be DICOM, 4 KiB of one that is compressed), never a decode.

Its own module because the reader of a folder (:func:`braintumor.volume_io.read_volumes`) and ``braintumor predict``'s
plan of its inputs (:mod:`braintumor.input_plan`) walk a folder alike, and the readers, which the web app loads,
load none of the command line's modules.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .compressed_files import MAGIC, PEEK, peeked
from .dicom_sniff import SNIFF_BYTES, file_head, is_dicom_head, worth_sniffing
from .image_files import IMAGE_EXTENSIONS, ListedFile, is_hidden_name, is_special_file, unreadable_text, walk_folders
from .scan_sniff import VOLUME_SUFFIXES


def unopened(left: list[tuple[Path, str]]) -> list[Path]:
    """The files a folder's walk could not open (a locked IM0002: maybe a slice), from its ``left``: read with its
    DICOM series, whose notes then count them ("skipped 1 file: cannot read file: Permission denied")."""
    return [p for p, kind in left if kind.startswith("unreadable:")]


def scan_folder(folder: Path, left: list[tuple[Path, str]] | None = None) -> tuple[list[Path], list[Path]]:
    """DICOM files (by content, whatever their name, or ending) and NIfTI files below ``folder``; hidden ones and
    those of an obviously other type (:data:`~braintumor.dicom_sniff.NOT_SCAN_SUFFIXES`) skipped. ``left`` gets the
    files passed over that look like inputs, with their kind (:func:`braintumor.folder_notes.left_out_as`)."""
    from .folder_notes import left_out_as

    dicoms, niftis = [], []
    for root, _dirs, files in walk_folders(folder):  # the folders walk_images reads
        for name in sorted(files):
            path = ListedFile(root, name)  # read, one replaced by a pipe since is refused, not waited on
            lower = name.lower()
            image = path.suffix.lower() in IMAGE_EXTENSIONS
            if is_hidden_name(name) or (image and not is_special_file(path)):
                continue
            if is_special_file(path):  # a FIFO named 'pipe' hung predict in the sniff below; one named like an input
                if left is not None and (image or lower.endswith(VOLUME_SUFFIXES)):  # was passed over without a word
                    left.append((path, "special"))
                continue
            if lower == "dicomdir":  # an index, never an image: not read (folder_notes)
                if left is not None:
                    left.append((path, "dicomdir"))
            elif lower.endswith((".nii", ".nii.gz")):
                niftis.append(path)
            elif lower.endswith((".dcm", ".dicom")):  # opened, not read: a locked one was only a stderr note
                if _opens(path, left):
                    dicoms.append(path)
            # else by content (IM00001, a UID, .IMA); a .txt or .pdf is not opened to look (a listing, not reads)
            elif is_dicom_head(head := _head(path, left)):
                dicoms.append(path)
            elif left is not None and (kind := left_out_as(name, _peek(path, head))):
                left.append((path, kind))
    return dicoms, niftis


def _peek(path: Path, head: bytes) -> bytes:
    """``head``, or a compressed file's first :data:`~braintumor.compressed_files.PEEK` bytes, to name what it holds
    by (a gzipped DICOM file's 132 are too few to say so): read again only of a file that begins so."""
    return peeked(lambda n: file_head(path, n), PEEK) if len(head) == SNIFF_BYTES and head.startswith(MAGIC) else head


def _head(path: Path, left: list[tuple[Path, str]] | None = None) -> bytes:
    """A walked file's first bytes, to tell DICOM by; b"" for a name of another type, never opened. One that cannot
    be opened goes to ``left`` as ``"unreadable:WHY"``: a scanner's locked IM0002 was dropped from its series unsaid."""
    return file_head(path, on_error=_unreadable(path, left)) if worth_sniffing(path.name) else b""


def _opens(path: Path, left: list[tuple[Path, str]] | None = None) -> bool:
    """Whether a walked .dcm can be opened (nothing read): one that cannot goes to ``left`` as :func:`_head` says, and
    predict makes it an error record, as it does a locked IM0002 (it was only a stderr note, in no output file)."""
    failed: list[OSError] = []
    file_head(path, 0, failed.append)
    if failed:
        _unreadable(path, left)(failed[0])
    return not failed or left is None  # with no ``left`` to say it, reading it says why


def _unreadable(path: Path, left: list[tuple[Path, str]] | None) -> Callable[[OSError], None]:
    """What notes in ``left`` that ``path`` could not be opened, and why."""
    def unreadable(exc: OSError) -> None:
        if left is not None:
            left.append((path, "unreadable:" + unreadable_text(path, exc)))

    return unreadable
