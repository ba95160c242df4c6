"""What is wrong with a BMP's header, said in its own values, for a BMP that Pillow does not read.

Why its own module: Pillow reads a BMP's width unsigned and words every other header it refuses as an OSError of
its own, so a negative width was "image is too large to decode safely", a width of 0 "not a recognised image", and
12 bits per pixel, a palette of 70 000 colours or JPEG-compressed pixels "image data is corrupt or truncated
(OSError)" of a file whose pixels were all there. Asked only once Pillow has failed (:mod:`braintumor.image_io`).
"""

from __future__ import annotations

from .wording import either

#: The BMP info headers Pillow reads, by size: OS/2 1.x's (12 bytes: unsigned 16-bit sizes), then BITMAPINFOHEADER
#: to BITMAPV5HEADER (signed 32-bit sizes: a negative height stores rows top-down).
HEADER_SIZES: tuple[int, ...] = (12, 40, 52, 56, 64, 108, 124)
#: Bits per pixel Pillow reads (its BmpImagePlugin.BIT2MODE).
BITS: tuple[int, ...] = (1, 4, 8, 16, 24, 32)
#: Compressions Pillow reads -> the bits per pixel each goes with.
_COMPRESSIONS = {0: BITS, 1: (8,), 2: (4,), 3: (16, 24, 32)}
_READ = "0, none; 1, RLE8 of 8-bit pixels; 2, RLE4 of 4-bit pixels; 3, bitfields of 16-, 24- or 32-bit pixels"
#: Compressions that hold a whole image of another format (for printers): a good file, of a kind not read.
_EMBEDDED = {4: "JPEG", 5: "PNG"}


def _u(data: bytes, at: int, size: int, signed: bool = False) -> int:
    return int.from_bytes(data[at:at + size], "little", signed=signed)


def bmp_header_problem(data: bytes) -> str | None:
    """Why a file that starts as a BMP cannot be read, from its header, or None where the header holds nothing wrong
    (or is cut short: a truncated file is said as one)."""
    if data[:2] != b"BM" or len(data) < 18:
        return None
    header = _u(data, 14, 4)
    if header not in HEADER_SIZES:
        return (f"a BMP file whose header is damaged or of a kind this decoder does not read: its info header is "
                f"{header:,} bytes (it reads {', '.join(map(str, HEADER_SIZES[:-1]))} and {HEADER_SIZES[-1]})")
    if len(data) < 14 + min(header, 40):
        return None
    if header == 12:
        width, height, bits, compression, colours = _u(data, 18, 2), _u(data, 20, 2), _u(data, 24, 2), 0, 0
    else:
        width, height, bits = _u(data, 18, 4, True), _u(data, 22, 4, True), _u(data, 28, 2)
        compression, colours = _u(data, 30, 4), _u(data, 46, 4)
    damaged = "a BMP file whose header is damaged: it declares"
    if width < 1:
        return f"{damaged} a width of {width:,} pixels (it must be positive)"
    if height == 0:
        return f"{damaged} a height of 0 pixels (it must not be 0: negative for rows stored top-down)"
    if bits not in BITS:
        return f"{damaged} {bits} bits per pixel (a BMP's are {either(BITS)})"
    if compression in _EMBEDDED:
        return (f"a BMP holding a {_EMBEDDED[compression]} image (compression {compression}), which this decoder "
                "does not read: save it as PNG, or as an uncompressed BMP")
    if bits not in _COMPRESSIONS.get(compression, ()):
        return (f"a BMP file whose header is damaged or of a kind this decoder does not read: it declares compression "
                f"{compression:,} for {bits}-bit pixels (it reads {_READ})")
    if bits <= 8 and colours > 1 << bits:
        return f"{damaged} a palette of {colours:,} colours for {bits}-bit pixels (at most {1 << bits})"
    return None
