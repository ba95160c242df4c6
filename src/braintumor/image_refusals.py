"""Why an image file is refused, worked out on the paths that refuse it: a JPEG of too many scans (before its
decode), content no decoder recognised, a header past the pixel limit. Apart from the decoder in
:mod:`braintumor.image_io` (which had reached 300 lines), which imports these names from here where it decodes (this
module imports it: its limits and errors).
"""

from __future__ import annotations

from .image_io import MAX_JPEG_SCAN_PIXELS, MAX_JPEG_SCANS, MAX_PIXELS, ImageError, ImageSource, UnrecognisedImage
from .stream_position import position, rewind_advice
from .wording import DOWNSCALE, size_text, too_many_pixels_text


def jpeg_scan_problem(data: bytes, width: int, height: int) -> str | None:
    """Why a JPEG is refused before decoding, if it is: more than MAX_JPEG_SCANS scans or MAX_JPEG_SCAN_PIXELS scans
    times pixels (each scan is decoded in full, so a file can cost seconds), or too many segments to count them."""
    most = min(MAX_JPEG_SCANS, MAX_JPEG_SCAN_PIXELS // (width * height))
    if data.count(b"\xff\xda") <= most:  # a fast bound: every scan starts with these bytes
        return None
    from .image_headers import MAX_JPEG_SEGMENTS  # (on this path only, as before the move)
    from .jpeg_markers import jpeg_scans

    scans = jpeg_scans(data, most)
    if scans is None:
        return f"JPEG has more than {MAX_JPEG_SEGMENTS:,} segments (a normal one has tens); refused"
    if len(scans) > most:
        size = f" for its {size_text(width, height)} pixels" if most < MAX_JPEG_SCANS else ""
        return f"JPEG has more than {most} scans{size} (each is decoded in full; a progressive one has 6-10); refused"
    return None


def unrecognised_error(data: bytes, source: ImageSource) -> ImageError:
    """The error of content Pillow recognised as no image (``data``, read from ``source``): what it is where we can
    tell (an AppleDouble file, an array, a scan, a damaged header, another format, a zip, a document), else
    UnrecognisedImage, saying where in a stream the read began when a read before it had left the stream partway."""
    from .compressed_files import compressed_text
    from .documents import array_file_text, document_text
    from .image_headers import apple_double, damaged_header, other_format_text
    from .scan_sniff import scan_as_image_text

    # (an .npz is a zip: named before a zip's words, "read_volumes reads scans")
    said = (apple_double(data) or array_file_text(data) or scan_as_image_text(data, source) or damaged_header(data)
            or other_format_text(data) or compressed_text(data) or document_text(data))
    # a stream read to its end stood at its position less what was read: Image.open(f) before had left f partway
    start = position(source) - len(data) if callable(getattr(source, "read", None)) else 0
    where = f" (read from position {start} of the stream, where a read before this one left it: " \
        f"{rewind_advice(source)} reads it from its start)" if start > 0 else ""
    return ImageError(said) if said else UnrecognisedImage(
        f"not a recognised image: expected JPEG, PNG, BMP, TIFF or WebP content{where}")


def too_large_error(data: bytes) -> ImageError:
    """The error of an image Pillow took for a decompression bomb: a header it misread (a negative width: Pillow
    reads over 4 billion), else the size its header declares against MAX_PIXELS."""
    from .image_headers import declared_size, image_header_problem

    if said := image_header_problem(data):
        return ImageError(said)
    size = declared_size(data[:65536])
    if size is not None:
        return ImageError(too_many_pixels_text(*size, MAX_PIXELS))
    return ImageError(f"image is too large to decode safely (limit {MAX_PIXELS:,} pixels): {DOWNSCALE}")
