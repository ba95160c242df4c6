"""pydicom's JPEG decoders as braintumor arranges them: Pillow tried before GDCM, and a decoding plugin for 12-bit JPEG
Extended (Process 2 and 4) pixel data, by GDCM.

Why Pillow first (:func:`pillow_first`): GDCM's libjpeg writes what it finds wrong in a scan's coded data ("Corrupt JPEG
data: 452 extraneous bytes before marker 0xd9", "bad Huffman code") straight to the process's stderr, where the web
server's threaded workers could not silence it until 2026-12-07 and a Python caller's process does not
(:mod:`braintumor.quiet_libraries` says why), and decodes the image anyway; Pillow's libjpeg-turbo reports to Pillow,
which says nothing of a warning. Intact, both give the same pixels (each 8-bit JPEG file pydicom ships, compared array
for array), and libjpeg-turbo is faster (1.2 ms against 12.5 ms for a 512 x 512 slice here); in damaged coded data their
guesses for the damaged blocks can differ. GDCM still reads what Pillow refuses (a stream libjpeg-turbo fails on), and
is the only decoder here of 12-bit JPEG Extended, JPEG Lossless and JPEG-LS, whose lines a Python caller's process keeps
(docs/WEB.md, Logs). JPEG 2000 keeps GDCM first: its OpenJPEG printed only on streams both fail on, so Pillow first
would spare no line, and it was no faster there.

Why the 12-bit plugin: pydicom 3's own GDCM plugin refuses JPEG Extended with more than 8 bits stored, and its Pillow
plugin cannot read 12-bit JPEG either, so such a file (CT and MR exported lossy, pydicom's ``JPGExtended.dcm``) was
"could not be decoded (RuntimeError)" with GDCM installed, which decodes it: python-gdcm's JPEG codec retries a 12-bit
frame with its 12-bit libjpeg (pylibjpeg-libjpeg, where installed, differs from it by 1 level in 3,612 of the 262,144
pixels of ``JPGExtended.dcm``, 2026-12-07). Registered after pydicom's plugins by
:func:`register`, so any of them that reads the frame (pylibjpeg-libjpeg, where installed) still goes first.
"""

from __future__ import annotations

from typing import cast

from pydicom import uid
from pydicom.pixels.decoders.base import DecodeRunner, get_decoder

from .image_headers import jpeg_frame

try:
    import gdcm

    HAVE_GDCM = True
except ImportError:  # python-gdcm is a dependency; without it pydicom's decoders say what is missing
    HAVE_GDCM = False

#: The plugin's name among pydicom's JPEG Extended decoders.
LABEL = "braintumor-gdcm-12bit"
#: The transfer syntaxes pydicom decodes with GDCM before Pillow, which :func:`pillow_first` turns around.
PILLOW_FIRST = (uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit)
#: pydicom's own plugins that :func:`pillow_first` may move behind Pillow (each in ``pydicom.pixels.decoders.NAME``).
_PYDICOM_PLUGINS = frozenset({"gdcm", "pylibjpeg"})
#: What pydicom quotes when the plugin is unavailable.
DECODER_DEPENDENCIES = {uid.JPEGExtended12Bit: ("python-gdcm>=3.0.10",)}


def is_available(syntax: str) -> bool:
    """Whether this plugin can decode ``syntax`` here (pydicom's plugin interface)."""
    return HAVE_GDCM and syntax == uid.JPEGExtended12Bit


def decode_frame(src: bytes, runner: DecodeRunner) -> bytes:
    """One JPEG Extended frame ``src`` decoded by GDCM, as pydicom's GDCM plugin decodes 8-bit ones (its 12-bit refusal
    aside): the frame as a one-fragment Pixel Data of a GDCM image with the header's size and pixel format."""
    if runner.bits_stored <= 8 or runner.bits_allocated != 16:
        raise NotImplementedError("only 12-bit samples in 16 bits (8-bit ones are pydicom's GDCM plugin's)")
    fragment = gdcm.Fragment()
    fragment.SetByteStringValue(src)
    fragments = gdcm.SequenceOfFragments.New()
    fragments.AddFragment(fragment)
    element = gdcm.DataElement(gdcm.Tag(0x7FE0, 0x0010))
    element.SetValue(fragments.__ref__())
    image = gdcm.Image()
    image.SetNumberOfDimensions(2)
    image.SetDimensions((runner.columns, runner.rows, 1))
    image.SetDataElement(element)
    pi = gdcm.PhotometricInterpretation.GetPIType(runner.photometric_interpretation)
    image.SetPhotometricInterpretation(gdcm.PhotometricInterpretation(pi))
    if runner.samples_per_pixel > 1:
        image.SetPlanarConfiguration(runner.planar_configuration)
    image.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.GetTSType(str(uid.JPEGExtended12Bit))))
    # GDCM picks its first libjpeg (8, 12 or 16-bit) by the bits allocated given; with the header's 16 a 12-bit stream
    # went to the 8-bit one first, and 12 sent the 16-bit streams GDCM writes to the 12-bit one, each of which wrote
    # "Unsupported JPEG data precision" on stderr before GDCM retried. Samples come back in 16 bits either way.
    frame_header = jpeg_frame(src)
    bits = 16 if frame_header is not None and frame_header[0] > 12 else 12
    image.SetPixelFormat(gdcm.PixelFormat(runner.samples_per_pixel, bits, bits, bits - 1, runner.pixel_representation))
    frame = image.GetBuffer()
    if frame is None:  # GDCM's codec failed (it says so on stderr, and returns nothing)
        raise ValueError("GDCM could not decode the 12-bit JPEG frame")
    out = frame.encode("utf-8", "surrogateescape")  # GDCM returns the buffer as a str
    if len(out) != runner.rows * runner.columns * runner.samples_per_pixel * 2:  # e.g. an 8-bit codestream
        raise ValueError("GDCM's 12-bit JPEG frame is not the header's size")
    return cast(bytes, out)


def pillow_first() -> None:
    """Pillow made the first decoder of :data:`PILLOW_FIRST`, once: GDCM (and pylibjpeg, where installed, which pydicom
    also lists before Pillow) are tried only on what it refuses, so the pixels of an 8-bit JPEG do not depend on what
    else is installed (pylibjpeg-libjpeg's differ from libjpeg-turbo's by up to 3 levels on 11 of 16 baseline files,
    2026-12-07). pydicom's registry is process-wide and has no order of its own to ask for, so each plugin before
    Pillow is taken out and added again, last, in its order."""
    for syntax in PILLOW_FIRST:
        decoder = get_decoder(syntax)
        order = list(decoder._available)
        if "pillow" not in order:
            continue
        for name in order[:order.index("pillow")]:
            if name in _PYDICOM_PLUGINS:
                decoder.remove_plugin(name)
                decoder.add_plugin(name, (f"pydicom.pixels.decoders.{name}", "_decode_frame"))


def register() -> None:
    """Pillow before GDCM (:func:`pillow_first`), then the 12-bit plugin added to pydicom's JPEG Extended decoder, last;
    once (pydicom's decoders are process-wide)."""
    pillow_first()
    decoder = get_decoder(uid.JPEGExtended12Bit)
    if LABEL not in decoder._available and LABEL not in decoder._unavailable:  # add_plugin refuses a second time
        decoder.add_plugin(LABEL, (__name__, "decode_frame"))
