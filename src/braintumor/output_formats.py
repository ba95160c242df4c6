"""What an output file's ending names: the formats predict writes, and those it does not, which are refused.

Why its own module: predict (``-o``) and ``data audit --out`` both read them, and the audit, which classifies
nothing, loaded the predictor and ONNX Runtime when it took them from :mod:`braintumor.predict_output`.
"""

from __future__ import annotations

from pathlib import Path

#: The endings predict's ``-o`` names a format by, without ``--format``.
FORMAT_BY_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
#: Endings of formats predict does not write, which ``-o`` without ``--format`` is refused: ``-o results.xlsx`` wrote
#: the table's text into a file Excel then refused to open (so .pdf, .html, a .gz that was not compressed).
OTHER_FORMATS = {".xlsx": "an Excel workbook", ".xls": "an Excel workbook", ".ods": "a spreadsheet",
                 ".numbers": "a spreadsheet", ".docx": "a Word document", ".pdf": "a PDF document",
                 ".html": "an HTML page", ".htm": "an HTML page", ".tsv": "tab-separated values",
                 ".parquet": "a Parquet file", ".gz": "a compressed file", ".bz2": "a compressed file",
                 ".xz": "a compressed file", ".zip": "a zip", ".zst": "a compressed file"}


def picture_ending(name: str) -> str | None:
    """What an image or scan ending of ``name`` names ("an image", "a DICOM file"), or None: a text output named so
    (``predict a.jpg -o result.png``) held the table's text under a picture's name, and a later ``predict DIR`` read
    it as a broken image. The endings' homes are the readers' (a zip is :data:`OTHER_FORMATS`'s)."""
    from .image_files import IMAGE_EXTENSIONS, OTHER_FORMAT_ENDINGS
    from .scan_sniff import VOLUME_SUFFIXES, scan_kind_text

    lower = name.lower()
    if lower.endswith(tuple(IMAGE_EXTENSIONS)):
        return "an image"
    if other := next((e for e in OTHER_FORMAT_ENDINGS if lower.endswith(e)), None):  # '.gif' alone too: no suffix
        return f"a {OTHER_FORMAT_ENDINGS[other]} image"
    scans = tuple(s for s in VOLUME_SUFFIXES if s not in OTHER_FORMATS)
    if lower.endswith(scans):
        return scan_kind_text(b"", name)
    return None


#: What the records' endings of :data:`FORMAT_BY_SUFFIX` name, in words.
RECORD_KINDS = {"csv": "a CSV file", "json": "a JSON file", "jsonl": "a JSON lines file"}
#: Endings of the model files the CLI writes and reads: export's and quantize's ONNX files, a run's checkpoints.
MODEL_ENDINGS = {".onnx": "an ONNX model", ".pt": "a PyTorch checkpoint"}


def file_ending(name: str) -> tuple[str, str] | None:
    """(the ending, what it names) where ``name`` ends as a file the CLI writes or reads does: an image or a scan
    (:func:`picture_ending`), records (:data:`FORMAT_BY_SUFFIX`), a model (:data:`MODEL_ENDINGS`); else None. A folder
    option named so (``--heatmap maps.png``, ``train --out run.json``) made a folder of that name
    (:func:`braintumor.cli_checks.check_folder_name`)."""
    from .scan_sniff import VOLUME_SUFFIXES

    lower = name.lower()
    last = Path(lower).name
    suffix = last[last.rfind("."):] if "." in last else ""  # '.png' alone too, which Path's suffix is not
    what = picture_ending(name) or MODEL_ENDINGS.get(suffix) or RECORD_KINDS.get(FORMAT_BY_SUFFIX.get(suffix, ""))
    if what is None:
        return None
    return max((s for s in VOLUME_SUFFIXES if lower.endswith(s)), key=len, default=suffix), what


def picture_content(path: Path) -> str | None:
    """What image or scan the existing file ``path`` (or where its link leads) holds by its first bytes ("a JPEG
    image", "a DICOM file"), or None: an output that would replace a picture with text. A scan without an ending (a
    DICOM file named IM0001, which a folder's walk need not read) or a link into an input folder was replaced by
    ``predict DIR -o IM0001`` with the records: no ending said what it was."""
    from .bmp_header import HEADER_SIZES
    from .dicom_sniff import file_head
    from .image_headers import image_kind
    from .scan_sniff import sniff

    if not path.is_file():
        return None
    head = file_head(path, 352)
    kind = image_kind(head[:16])
    if kind == "BMP" and int.from_bytes(head[14:18], "little") not in HEADER_SIZES:  # text may begin 'BM'
        kind = None
    if kind:
        return f"a {kind} image"
    return {"dicom": "a DICOM file", "nifti": "a NIfTI volume"}.get(sniff(head, path.name) or "")
