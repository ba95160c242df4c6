"""What GDCM's libjpeg and OpenJPEG write on the process's stderr (through the C library's ``stderr``, out of reach of
Python's warning filters and of gdcm.Trace) for a damaged stream: not written where Pillow, tried first, decodes it
(JPEG Baseline), dropped in the CLI and in the web server's workers (the C library's ``stderr`` pointed away while GDCM
decodes, fd 2 left alone: the other request threads' lines all arrive; test_serve_decoder_lines.py runs the server),
and left alone in a process that did not say so (a Python caller's).

The cases run in a subprocess whose fd 2 is a pipe: pytest's own capture would hide what is checked."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import damaged_lossless, gdcm_encoded, jpeg_baseline, make_dataset, to_bytes

from braintumor.volume_io import read_volumes

pytest.importorskip("gdcm")

#: What the decoders wrote for the files below (GDCM's: it tried first, and is still the only JPEG Lossless decoder).
DECODER_LINES = ("Corrupt JPEG data", "Invalid tile number", "Fail to read the current marker segment")


def _gray() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (64, 64)).astype(np.uint8)


def _jpeg_with_zeros() -> bytes:
    """A JPEG Baseline DICOM with 32 zero bytes in the middle of its scan: decoded, and libjpeg says "Corrupt JPEG
    data: 452 extraneous bytes before marker 0xd9"."""
    data = bytearray(jpeg_baseline(_gray()))
    mid = (data.index(b"\xff\xda") + len(data)) // 2
    data[mid:mid + 32] = bytes(32)
    return bytes(data)


def _scan_changed(data: bytes, where: float, change: Callable[[int], int]) -> bytes:
    """``data`` with 8 bytes of its first JPEG scan's coded data changed by ``change``, ``where`` (0 to 1) along it."""
    data = bytearray(data)
    start, end = data.index(b"\xff\xda"), data.rindex(b"\xff\xd9")
    at = start + int((end - start) * where)
    data[at:at + 8] = bytes(change(b) for b in data[at:at + 8])
    return bytes(data)


def _j2k(damage: Callable[[bytearray], None] | None = None) -> bytes:
    """A JPEG 2000 DICOM, its codestream changed by ``damage``."""
    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEG2000Lossless

    buf = io.BytesIO()
    Image.fromarray(_gray()).save(buf, format="JPEG2000", irreversible=False, no_jp2=True)
    stream = bytearray(buf.getvalue())
    if damage:
        damage(stream)
    ds = make_dataset(_gray())
    ds.PixelData = encapsulate([bytes(stream)])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    return to_bytes(ds)


def _bad_tile(stream: bytearray) -> None:
    """Its tile-part names tile 21 760 of one: OpenJPEG said "Invalid tile number 21760"."""
    at = stream.index(b"\xff\x90")  # SOT: marker, Lsot, then Isot
    stream[at + 4:at + 6] = (21760).to_bytes(2, "big")


def _j2k_bad_tile() -> bytes:
    return _j2k(_bad_tile)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("damaged")
    (folder / "zeros.dcm").write_bytes(_jpeg_with_zeros())
    (folder / "tile.dcm").write_bytes(_j2k_bad_tile())
    (folder / "lossless.dcm").write_bytes(damaged_lossless(folder))
    return folder


def _python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]])
def test_predict_says_its_own_line_and_not_the_decoders(damaged, workers):
    """``predict`` of these files printed GDCM's lines between its own; now its own only, from its worker processes
    too (the JPEG Lossless one's from GDCM, its only decoder, dropped with fd 2). The damaged JPEGs are still
    classified and the JPEG 2000 still refused by name."""
    done = _python("-m", "braintumor", "predict", str(damaged / "zeros.dcm"), str(damaged / "tile.dcm"),
                   str(damaged / "lossless.dcm"), "--format", "jsonl", *workers)
    assert done.returncode == 1, done.stderr
    assert not [line for line in DECODER_LINES if line in done.stderr], done.stderr
    assert done.stderr == "1 unreadable input\n"
    zeros, tile, lossless = (json.loads(line) for line in done.stdout.splitlines())
    for read in (zeros, lossless):
        assert "error" not in read and "ood" in read  # read and scored (noise: out of distribution)
    assert tile["error"] == ("DICOM JPEG 2000 pixel data is damaged (frame 1): a tile-part names tile 21,760 where its "
                             "image has 1; not decoded")


_SERVER_LIKE = """
import os, sys, threading
import braintumor.decoder_stderr
from braintumor.quiet_libraries import set_decoders_quiet
from braintumor.volume_io import read_volumes
from braintumor.image_io import ImageError
data = open(sys.argv[1], "rb").read()
if sys.argv[3] == "not glibc":  # as on musl or macOS: the C library's stderr cannot be pointed away
    braintumor.decoder_stderr._glibc = lambda: False
set_decoders_quiet(sys.argv[2] or None)
stop = threading.Event()
def other_request():  # another thread of the same process, logging meanwhile
    n = 0
    while not stop.is_set():
        os.write(2, b"other thread %d\\n" % n)
        n += 1
    print(n)
t = threading.Thread(target=other_request)
t.start()
for _ in range(40):
    try:
        read_volumes(data, name="x.dcm")
    except ImageError:
        pass
stop.set()
t.join()
"""


@pytest.mark.parametrize(("how", "libc", "dropped"), [("", "glibc", False), ("shared", "glibc", True),
                                                      ("shared", "not glibc", False)],
                         ids=["python-caller", "server-worker", "server-worker-off-glibc"])
def test_a_process_whose_threads_share_stderr_loses_no_line(damaged, how, libc, dropped):
    """Pointing fd 2 away is process-wide: in the web server another request thread's log lines would be lost while
    one decodes. Where threads share it nothing touches fd 2: every line of a thread writing meanwhile arrives. GDCM's
    own (libjpeg's, for damage inside a JPEG Lossless stream's coded data, which only decoding finds and which only GDCM
    decodes here) are dropped in a server's worker, whose C library's stderr is pointed away while GDCM decodes (the
    threaded workers logged them until 2026-12-07), and kept in a Python caller's process, and off glibc."""
    done = _python("-c", _SERVER_LIKE, str(damaged / "lossless.dcm"), how, libc)
    assert done.returncode == 0, done.stderr
    written = int(done.stdout)
    lines = done.stderr.splitlines()
    assert [line for line in lines if line.startswith("other thread")] == [f"other thread {n}" for n in range(written)]
    assert ("Corrupt JPEG data" in done.stderr) is not dropped, done.stderr[-2000:]


def test_damaged_jpeg_coded_data_is_read_without_a_line_on_stderr(capfd):
    """A JPEG Baseline DICOM whose scan's coded data is damaged (zeroed, or bytes flipped) is read, and was read, but
    GDCM's libjpeg, pydicom's first JPEG decoder, wrote "Corrupt JPEG data: 452 extraneous bytes before marker 0xd9"
    on fd 2 in any process: in the web server's log for each such upload. Pillow, tried first now, reads it without a
    word (its libjpeg-turbo reports to Pillow); intact, it gives GDCM's pixels exactly."""
    import pydicom
    from pydicom.pixels import pixel_array

    intact = jpeg_baseline(_gray())
    for data in (_jpeg_with_zeros(), _scan_changed(intact, 0.5, lambda b: b ^ 0x5A)):
        (volume,) = read_volumes(data, name="x.dcm")
        assert volume.slices[0].pixels.shape == (64, 64)
        assert capfd.readouterr().err == ""
    assert np.array_equal(pydicom.dcmread(io.BytesIO(intact)).pixel_array,
                          pixel_array(io.BytesIO(intact), decoding_plugin="gdcm"))


def test_a_marker_no_decoder_reads_inside_jpeg_coded_data_is_refused_by_name_with_nothing_on_stderr(tmp_path, capfd):
    """A reserved marker code (FF 4F) written into a scan's coded data made libjpeg stop the scan ("Corrupt JPEG data:
    premature end of data segment") and then fail ("Unsupported marker type 0x4f"), GDCM's printing both on fd 2 in
    any process, and the user got "could not be decoded by GDCM or Pillow". Baseline and Lossless alike are refused by
    name before decoding now. With restart intervals libjpeg-turbo passes over such a code, so that frame is read."""
    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    from braintumor.image_io import ImageError

    restarts = io.BytesIO()
    Image.fromarray(_gray()).save(restarts, format="JPEG", restart_marker_blocks=4)
    ds = make_dataset(_gray())
    ds.PixelData, ds.file_meta.TransferSyntaxUID = encapsulate([restarts.getvalue()]), JPEGBaseline8Bit
    ds["PixelData"].VR = "OB"
    lossless = gdcm_encoded(_gray().astype(np.uint16) * 16, "JPEGLosslessProcess14_1", tmp_path, bits=12)
    for data, read in ((jpeg_baseline(_gray()), False), (lossless, False), (to_bytes(ds), True)):
        damaged = bytearray(data)
        at = (damaged.index(b"\xff\xda") + damaged.rindex(b"\xff\xd9")) // 2
        damaged[at:at + 2] = b"\xff\x4f"
        if read:  # restart intervals
            (volume,) = read_volumes(bytes(damaged), name="x.dcm")
            assert volume.slices[0].pixels.shape == (64, 64)
        else:
            with pytest.raises(ImageError, match=r"^DICOM JPEG pixel data holds a 0x4f marker inside its coded data, "
                                                 r"where no decoder here reads one: damaged, not decoded$"):
                read_volumes(bytes(damaged), name="x.dcm")
        assert capfd.readouterr().err == ""


def _siz_bits(stream: bytearray) -> None:
    stream[42] = 123  # the first component's Ssiz: 124 bits


def _no_cod(stream: bytearray) -> None:
    at = stream.index(b"\xff\x52")
    stream[at + 1] = 0x64  # the COD segment made a comment (COM)


_READ_EACH = """
import sys
from braintumor.volume_io import read_volumes
from braintumor.image_io import ImageError
for path in sys.argv[1:]:
    try:
        read_volumes(open(path, "rb").read(), name="x.dcm")
        print("read")
    except ImageError as exc:
        print(exc)
"""


def _junk_before_the_end(stream: bytearray) -> None:
    """Two bytes inserted at the end of the tile's coded data, past its tile-part's length (Psot): OpenJPEG said
    "Stream too short, expected SOT" and "Failed to decode tile 1/1", and Pillow's failed too."""
    stream[-2:-2] = b"\x12\x34"


def _short_tile_part(stream: bytearray) -> None:
    """The tile-part's length (Psot) 4 bytes short of its coded data: OpenJPEG said "read: segment too long (1194)
    with max (...) for codeblock 0 ...", "Failed to decode." and "Failed to decode tile 1/1"."""
    at = stream.index(b"\xff\x90")
    stream[at + 6:at + 10] = (int.from_bytes(stream[at + 6:at + 10], "big") - 4).to_bytes(4, "big")


def test_a_damaged_jpeg_2000_header_is_refused_by_name_before_openjpeg_prints_or_aborts(tmp_path):
    """OpenJPEG, inside GDCM, printed what it found wrong in a codestream's headers on the process's stderr ("Invalid
    tile number 21760", "required COD marker not found in main header"), in the threaded web workers' log too, and
    a component of 124 bits made GDCM throw a C++ exception nothing catches: the process aborted ("terminate called
    after throwing an instance of 'std::__cxx11::basic_string...'"), a web worker with its request. The marker
    segments are walked first (j2k_markers): each refused by name, in a process that did not say to drop their lines
    (a Python caller's), with nothing on stderr; an intact one is read. So is a tile-part whose length (Psot) does not
    end where the next tile-part or the end marker starts: both decoders failed on it, OpenJPEG with its lines on
    stderr."""
    said = "DICOM JPEG 2000 pixel data is damaged (frame 1): "
    cases = {None: "read", _bad_tile: said + "a tile-part names tile 21,760 where its image has 1; not decoded",
             _siz_bits: said + "its SIZ marker gives component 1 124 bits (at most 38); not decoded",
             _no_cod: said + "its main header has no COD marker; not decoded",
             _junk_before_the_end: said + "0x1234 stands where a tile-part or the end marker is due; not decoded",
             _short_tile_part: re.escape(said) + "0x[0-9a-f]{4} stands where a tile-part or the end marker is due; "
                                                 "not decoded"}
    paths = []
    for k, damage in enumerate(cases):
        (path := tmp_path / f"{k}.dcm").write_bytes(_j2k(damage))
        paths.append(str(path))
    done = _python("-c", _READ_EACH, *paths)
    assert done.returncode == 0, done.stderr
    said_each = done.stdout.splitlines()
    assert said_each[:-1] == list(cases.values())[:-1]
    assert re.fullmatch(cases[_short_tile_part], said_each[-1]), said_each[-1]  # its next bytes: the encoder's
    assert done.stderr == ""


_NESTED = """
import ctypes, os, sys, threading
import braintumor.decoder_stderr
from braintumor.quiet_libraries import decoders_quiet, quiet_decoders
libc = ctypes.CDLL(None)
stdio = ctypes.c_void_p.in_dll(libc, "stderr")
libc.fputs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
if sys.argv[1] == "fd 2":  # off glibc, in a process whose stderr is its own: fd 2 itself is pointed away
    braintumor.decoder_stderr._glibc = lambda: False
    how = "own"
    def write(text): os.write(2, text)
else:  # as GDCM's libjpeg and OpenJPEG write, in a server's worker: fd 2 itself stays (Python's lines arrive)
    how = "shared"
    def write(text): libc.fputs(text, stdio.value); os.write(2, b"python's line\\n")
before, pointer = os.fstat(2), stdio.value
barrier = threading.Barrier(4)
def decode():
    with quiet_decoders():
        barrier.wait()
        write(b"dropped\\n")
        barrier.wait()
with decoders_quiet(how):
    threads = [threading.Thread(target=decode) for _ in range(3)]
    for t in threads: t.start()
    barrier.wait(); barrier.wait()
    for t in threads: t.join()
    try:
        with quiet_decoders():
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
after = os.fstat(2)
assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
assert stdio.value == pointer
os.write(2, b"kept\\n")
"""


@pytest.mark.parametrize("way", ["C stdio", "fd 2"])
def test_threads_inside_at_once_put_stderr_back_once_the_last_leaves(way):
    """Three threads inside at once, their windows overlapping, then a Ctrl-C inside: the C library's stderr (or fd 2,
    off glibc, where the process's stderr is its own) comes back to the very same file, and what was written through it
    inside is dropped; in a server's worker, what Python wrote on fd 2 meanwhile is not."""
    done = _python("-c", _NESTED, way)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ("python's line\n" * 3 if way == "C stdio" else "") + "kept\n"


def test_a_damaged_jpeg_header_is_refused_by_name_before_gdcm_crashes(tmp_path):
    """GDCM, given a JPEG header libjpeg warns of, threw a C++ exception nothing catches ("terminate called after
    throwing an instance of 'gdcm::Exception'"), and given a frame of 17-bit samples or more it crashed
    (segmentation fault): either way the whole process died, a web worker with its request, a CLI batch with every
    file after it. Found by changing bytes of a JPEG DICOM at random; each is refused by name now, nothing printed."""
    intact = jpeg_baseline(_gray())
    soi = intact.index(b"\xff\xd8")
    jfif, precision, dqt = bytearray(intact), bytearray(intact), bytearray(intact)
    assert jfif[soi + 6:soi + 11] == b"JFIF\0"
    jfif[soi + 11] = 233  # its version: libjpeg warns "unknown JFIF revision number 233.01"
    at = precision.index(b"\xff\xc0", soi)
    precision[at + 4] = 136
    at = dqt.index(b"\xff\xdb", soi)
    dqt[at:at + 8] = bytes(8)  # the DQT segment's start overwritten: its table skipped as stray bytes
    stray = dqt.index(b"\xff\xc0", at) - at
    said = "DICOM JPEG pixel data"
    cases = {intact: "read", bytes(jfif): f"{said}'s JFIF header says version 233 (JFIF is version 1): damaged, not "
                                         "decoded",
             bytes(precision): f"{said}'s DCT frame (SOF0) declares 136-bit samples (it may have 8, 12 or 16): "
                               "damaged, not decoded",
             bytes(dqt): f"{said} has {stray} stray bytes before its 0xc0 marker, where a header segment is due: "
                         "damaged, not decoded"}
    paths = []
    for k, data in enumerate(cases):
        (path := tmp_path / f"{k}.dcm").write_bytes(data)
        paths.append(str(path))
    done = _python("-c", _READ_EACH, *paths)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == list(cases.values())
    assert done.stderr == ""


@pytest.mark.parametrize(("syntax", "kind"), [("JPEGBaseline8Bit", "JPEG"), ("JPEGLosslessSV1", "JPEG"),
                                              ("JPEGLSLossless", "JPEG-LS")])
def test_a_frame_that_is_no_jpeg_stream_is_refused_by_name_before_libjpeg_prints_its_bytes(capfd, syntax, kind):
    """A JPEG frame not starting with the SOI marker (here the bytes "not a jpeg") made GDCM's libjpeg write "Not a
    JPEG file: starts with 0x6e 0x6f" on fd 2 in any process: two bytes of the upload in the web server's log. Each
    frame's start, as pydicom splits the fragments into frames, is checked first now: refused by name, nothing
    written; JPEG-LS, whose decoder said nothing, is refused in the same words. Intact frames beside it are read."""
    import pydicom
    from pydicom import uid
    from pydicom.encaps import encapsulate, generate_frames

    from braintumor.image_io import ImageError

    (stream,) = generate_frames(pydicom.dcmread(io.BytesIO(jpeg_baseline(_gray()))).PixelData, number_of_frames=1)

    def dicom(frames: list[bytes], **encapsulated) -> bytes:
        ds = make_dataset(_gray(), NumberOfFrames=len(frames))
        ds.PixelData = encapsulate(frames, **encapsulated)
        ds["PixelData"].VR, ds.file_meta.TransferSyntaxUID = "OB", getattr(uid, syntax)
        return to_bytes(ds)

    said = f"DICOM {kind} pixel data is damaged (frame {{}}): it does not start with {kind}'s SOI marker; not decoded"
    for frames, each in (([b"not a jpeg"], {}), ([stream, b"not a jpeg", stream], {}),
                         ([stream, b"not a jpeg", stream], {"fragments_per_frame": 2, "has_bot": True})):
        with pytest.raises(ImageError) as refused:
            read_volumes(dicom(frames, **each), name="x.dcm")
        assert capfd.readouterr().err == ""
        assert str(refused.value) == said.format(frames.index(b"not a jpeg") + 1)
    if syntax == "JPEGBaseline8Bit":
        (volume,) = read_volumes(dicom([stream] * 3, has_bot=True), name="x.dcm")
        assert len(volume.slices) == 3
