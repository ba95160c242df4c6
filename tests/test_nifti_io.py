"""NIfTI files as they come: their cost in time and memory, and what bad headers and data blocks are told (how a
readable file's slices are placed, by its orientation and voxel sizes, is in tests/test_nifti_orientation_io.py)."""

from __future__ import annotations

import logging
import struct
import tracemalloc

import numpy as np
import pytest

from braintumor.image_io import ImageError
from braintumor.slice_pixels import robust_uint8
from braintumor.volume_io import read_volumes


def _nifti(shape: tuple[int, ...], dtype=np.int16) -> bytes:
    import nibabel as nib

    data = np.random.default_rng(0).integers(0, 1000, shape).astype(dtype)
    return nib.Nifti1Image(data, np.eye(4)).to_bytes()


def _patched(raw: bytes, offset: int, fmt: str, *values) -> bytes:
    out = bytearray(raw)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def test_nibabel_says_nothing_on_stderr_or_in_the_log(capfd, caplog):
    """nibabel's LoggingOutputSuppressor removes its handler for good on first use (it iterates the list it empties),
    after which its header checks reached stderr through logging's last resort: 'braintumor predict' printed
    'pixdim[1,2,3] should be positive; setting to abs of pixdim values' between its lines, and the server's log too."""
    raw = _nifti((40, 48, 6))
    negative_pixdim = _patched(raw, 80, "<f", -2.0)  # pixdim[1]: nibabel fixes it, and says so
    binary = _patched(_patched(raw, 70, "<h", 1), 72, "<h", 1)  # datatype 1 (binary): refused, and said
    with caplog.at_level(logging.DEBUG):
        for _ in range(2):  # the first read removed nibabel's handler; the second went to logging's last resort
            assert len(read_volumes(negative_pixdim, name="x.nii")[0].slices) == 6
            with pytest.raises(ImageError):
                read_volumes(binary, name="x.nii")
    assert capfd.readouterr().err == ""
    assert not [r for r in caplog.records if r.name.startswith("nibabel")]


def _read_measured(data: bytes, name: str):
    """The one volume read from ``data`` and the peak of Python memory allocated while reading it."""
    tracemalloc.start()
    try:
        (volume,) = read_volumes(data, name=name)
        return volume, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_no_slice_copies_the_whole_volume():
    """np.take copied the whole (Fortran-ordered) volume to cut each slice: 256 x 256 x 176 took 80 s, not 2, and
    each slice cost a second copy of the volume in memory."""
    data = _nifti((96, 96, 40))
    read_volumes(data, name="warm.nii")  # imports and caches out of the measure
    volume, peak = _read_measured(data, "x.nii")
    assert len(volume.slices) == 40
    assert peak < 2 * 96 * 96 * 40 * 4  # the float32 volume once, and its int16 data while it is converted


def test_a_gzip_bomb_is_inflated_only_as_far_as_its_header_declares():
    """A .nii.gz was inflated whole, up to 512 MB, before its header was read: a 3 MB bomb cost a worker 1.1 GB and
    3 s. Now its header is read first and only its first volume is inflated; the tail is never touched."""
    import gzip
    import zlib

    raw = _nifti((64, 64, 16))  # 131 kB of voxels
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = deflate.compress(raw) + deflate.compress(bytes(64 << 20)) + deflate.flush()  # 64 MB of zeros after it
    assert len(bomb) < 300_000
    read_volumes(gzip.compress(raw), name="warm.nii.gz")
    volume, peak = _read_measured(bomb, "bomb.nii.gz")
    assert len(volume.slices) == 16 and peak < 4_000_000


def _header_case(name: str) -> bytes:
    raw = _nifti((40, 48, 6))
    import nibabel as nib

    qform = nib.Nifti1Image(np.zeros((40, 48, 6), np.int16), None)
    qform.set_qform(np.eye(4), code=1)
    qform.set_sform(None, code=0)
    return {
        "binary": _patched(_patched(raw, 70, "<h", 1), 72, "<h", 1),
        "rgb": _patched(_patched(raw, 70, "<h", 128), 72, "<h", 24),
        "unknown": _patched(raw, 70, "<h", 999),
        "dim0": _patched(raw, 40, "<h", 8),
        "offset nan": _patched(raw, 108, "<f", float("nan")),
        "offset low": _patched(raw, 108, "<f", 100.0),
        "offset far": _patched(raw, 108, "<f", 1e12),
        "truncated": raw[:10_000],
        "quaternion": _patched(qform.to_bytes(), 256, "<3f", 2.0, 0.0, 0.0),
    }[name]


@pytest.mark.parametrize(("case", "message"), [
    ("binary", r"NIfTI data type binary is not supported \(expected integer or real voxels\)"),
    ("rgb", r"NIfTI data type RGB is not supported"),
    ("unknown", r"NIfTI data type <unknown code 999> is not supported"),
    ("dim0", r"NIfTI header's dim\[0\] \(the number of dimensions\) is 8: expected 1 to 7"),
    ("offset nan", r"NIfTI header's vox_offset is nan: the voxels cannot start there"),
    ("offset low", r"NIfTI header's vox_offset is 100: the voxels cannot start there \(the header and its extension "
                   r"flag take 352 bytes\)"),
    ("offset far", r"NIfTI header places its first volume's voxels up to byte 1,000,000,018,944; the limit is"),
    ("truncated", r"NIfTI data is truncated: its header places the first volume's voxels up to byte 23,392, and "
                  r"the (inflated )?file ends at byte 10,000"),
    ("quaternion", r"NIfTI header's qform is not a rotation"),
])
def test_a_bad_header_or_data_block_is_told_precisely(case, message):
    """Each was 'NIfTI header is invalid (HeaderDataError)', '(ValueError)' or 'NIfTI voxel data is corrupt or
    truncated (OSError)'; dim[0] = 8 read the header byte-swapped and blamed its vox_offset."""
    import gzip

    raw = _header_case(case)
    for data, name in ((raw, "x.nii"), (gzip.compress(raw), "x.nii.gz")):
        with pytest.raises(ImageError, match=f"^{message}"):
            read_volumes(data, name=name)


@pytest.mark.parametrize("intercept", [float("nan"), float("-inf")])
def test_an_intercept_that_is_no_number_beside_a_valid_slope_is_read_as_0_and_said(intercept):
    """A valid scl_slope with a NaN or infinite scl_inter was refused in nibabel's words ('NIfTI header is invalid:
    Valid slope but invalid intercept nan'). The NIfTI-1 reference library (nifti1_io.c) reads such an intercept as
    0, and so is it read now, with a note: the slices are those of the file with scl_inter 0, and a CT volume so
    scaled is still told by its values (read with the intercept 0)."""
    import nibabel as nib

    raw = _patched(_nifti((40, 48, 6)), 112, "<f", 2.0)
    (volume,) = read_volumes(_patched(raw, 116, "<f", intercept), name="x.nii")
    (zero,) = read_volumes(_patched(raw, 116, "<f", 0.0), name="x.nii")
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(volume.slices, zero.slices, strict=True))
    assert volume.notes == (*zero.notes, f"the header's scl_inter is {intercept:g}, not a finite number: read as 0, "
                                         "as the NIfTI-1 reference library reads it")
    hounsfield = np.random.default_rng(0).choice([-500, 15], (40, 48, 6)).astype(np.int16)  # x 2: air and tissue
    ct = _patched(_patched(nib.Nifti1Image(hounsfield, np.eye(4)).to_bytes(), 112, "<f", 2.0), 116, "<f", intercept)
    with pytest.raises(ImageError, match=r"^NIfTI voxel values look like CT's Hounsfield units"):
        read_volumes(ct, name="ct.nii")


def test_a_gzip_of_several_members_is_read_whole():
    """A .nii.gz made of concatenated gzip members (pigz -i, bgzip, 'cat a.gz b.gz'), which gzip and nibabel read,
    was cut at the end of its first member: 'NIfTI voxel data is corrupt or truncated'."""
    import gzip

    raw = _nifti((40, 48, 6))
    members = b"".join(gzip.compress(raw[k:k + 5000]) for k in range(0, len(raw), 5000))
    assert gzip.decompress(members) == raw
    (volume,) = read_volumes(members, name="multi.nii.gz")
    (plain,) = read_volumes(raw, name="plain.nii")
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(volume.slices, plain.slices, strict=True))


def test_a_gzip_whose_header_is_split_over_members_or_follows_a_long_gzip_header_is_read_by_its_content():
    """Sniffing inflated the first 4 kB of the first member only, as the reader does not: named without .nii.gz (a
    web upload named 'scan', 'scan.gz' named alone), a header split over members was 'a gzip-compressed file:
    decompress it', and one after a gzip header with a 10 kB file name 'a gzip-compressed NIfTI volume without the
    .nii.gz ending, ...: rename it'."""
    import gzip
    import zlib

    raw = _nifti((40, 48, 6))
    split = gzip.compress(raw[:200]) + gzip.compress(raw[200:])
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    named = (b"\x1f\x8b\x08\x08" + bytes(6) + b"n" * 10_000 + b"\x00" + deflate.compress(raw) + deflate.flush()
             + struct.pack("<II", zlib.crc32(raw), len(raw)))
    (plain,) = read_volumes(raw, name="plain.nii")
    for data in (split, named):
        assert gzip.decompress(data) == raw
        for name in ("scan", "scan.gz", None):
            (volume,) = read_volumes(data, name=name)
            assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(volume.slices, plain.slices, strict=True))


def test_a_nifti_volume_gzipped_twice_is_told_so():
    """A .nii.gz that a server sent gzip-encoded, saved as it came (curl -o without --compressed), is a gzip of the
    .nii.gz: it was 'not a NIfTI-1/NIfTI-2 single file (.nii): magic number missing'."""
    import gzip

    twice = gzip.compress(gzip.compress(_nifti((40, 48, 6))))
    for name in ("scan.nii.gz", "scan.nii"):
        with pytest.raises(ImageError, match=r"^NIfTI volume gzip-compressed twice: this gzip holds a \.nii\.gz .*: "
                                             r"decompress it once \(gunzip\) and send what it holds$"):
            read_volumes(twice, name=name)


def test_a_damaged_gzip_says_which_check_failed_not_corrupt_or_truncated():
    """Both were 'gzip data is corrupt or truncated', which a truncation is not (it is told apart), nor said which."""
    import gzip

    packed = gzip.compress(_nifti((40, 48, 6)))
    crc = packed[:-8] + bytes(4) + packed[-4:]
    flipped = packed[:60] + bytes([packed[60] ^ 0xFF]) * 40 + packed[100:]
    for damaged, what in ((crc, r"what it inflates to fails the gzip's own check \(its CRC-32 or length\)"),
                          (flipped, "its compressed data cannot be inflated")):
        with pytest.raises(ImageError, match=rf"^gzip data is corrupt: {what} \(damaged in a copy or a download\?\): "
                                             "send the file again$"):
            read_volumes(damaged, name="scan.nii.gz")


def test_a_gzip_of_too_many_members_is_refused(monkeypatch):
    """Each member costs a new inflater and a copy of the rest of its piece: 6 M empty members (120 MB) took 14 s."""
    import gzip

    from braintumor import nifti_header

    monkeypatch.setattr(nifti_header, "MAX_GZIP_MEMBERS", 100)
    raw = _nifti((40, 48, 6))
    padded = gzip.compress(raw[:600]) + gzip.compress(b"") * 100 + gzip.compress(raw[600:])
    with pytest.raises(ImageError, match=r"^gzip data has more than 100 members; refused$"):
        read_volumes(padded, name="padded.nii.gz")


def test_a_volume_past_the_slice_limit_is_refused_on_its_header():
    """The slice count was checked after the volume was inflated and decoded: an 8 kB .nii.gz of 4000 slices cost
    33 MB before 'the limit is 512' (a web request's budget is documented as checked on headers)."""
    import gzip

    import nibabel as nib

    data = gzip.compress(nib.Nifti1Image(np.zeros((32, 32, 4000), np.int16), np.eye(4)).to_bytes())
    read_volumes(gzip.compress(_nifti((32, 32, 4))), name="warm.nii.gz")
    tracemalloc.start()
    try:
        with pytest.raises(ImageError, match=r"^NIfTI volume has 4000 axial slices; the limit is 512 \(a scan this "
                                             r"long cannot be read here: send a part of it, e\.g\. the slices "
                                             r"through the lesion, as its own file\)$"):
            read_volumes(data, name="long.nii.gz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


@pytest.mark.parametrize(("cls", "what"), [("Nifti1Pair", "a NIfTI-1 pair header"),
                                           ("AnalyzeImage", "an Analyze 7.5 header")])
def test_the_header_of_a_pair_is_told_what_it_is(cls, what, tmp_path):
    """A .hdr of a header/image pair was 'not a recognised image: expected JPEG, PNG, BMP, TIFF or WebP content'."""
    import nibabel as nib

    nib.save(getattr(nib, cls)(np.zeros((8, 8, 8), np.int16), np.eye(4)), tmp_path / "scan.img")
    message = f"^{what} \\(.hdr\\): header and image pairs \\(.hdr \\+ .img\\) are not read; save them as one .nii file"
    for source in (tmp_path / "scan.hdr", (tmp_path / "scan.hdr").read_bytes()):
        with pytest.raises(ImageError, match=message):
            read_volumes(source, name="scan.hdr")


@pytest.mark.parametrize("cls", ["Nifti1Pair", "AnalyzeImage"])
def test_the_image_half_of_a_pair_is_told_what_it_may_be(cls, tmp_path):
    """The .hdr was told pairs are not read; the .img (raw voxels, no signature) got 'not a recognised image: expected
    JPEG, PNG, BMP, TIFF or WebP content'. By its name, when no format's signature says otherwise."""
    import gzip

    import nibabel as nib

    from braintumor.scan_sniff import sniff

    nib.save(getattr(nib, cls)(np.zeros((8, 8, 8), np.int16), np.eye(4)), tmp_path / "scan.img")
    voxels = (tmp_path / "scan.img").read_bytes()
    message = (r"^a \.img file of no image format \(the image half of a header/image pair\?\): header and image pairs "
               r"\(.hdr \+ .img\) are not read; save them as one .nii file")
    for source, name in ((tmp_path / "scan.img", None), (voxels, "SCAN.IMG"), (gzip.compress(voxels), "scan.img.gz")):
        with pytest.raises(ImageError, match=message):
            read_volumes(source, name=name)
    jpeg = (b"\xff\xd8\xff\xe0" + voxels, "scan.img")  # content with a signature is what it says, whatever its name
    assert sniff(*jpeg) is None and sniff(voxels, "scan.bin") is None and sniff(voxels, "scan.img") == "nifti"


def test_signalling_nan_voxels_warn_nowhere():
    """A float voxel holding a signalling NaN made numpy print 'RuntimeWarning: invalid value encountered in cast' and
    its source line on stderr, between 'braintumor predict' lines, when the slice was converted for display."""
    import warnings

    import nibabel as nib

    data = np.random.default_rng(0).random((40, 48, 3)).astype(np.float32)
    data.view(np.uint32)[5, 7, :] = 0x7F800001  # a signalling NaN
    raw = nib.Nifti1Image(data, np.eye(4)).to_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (volume,) = read_volumes(raw, name="x.nii")
    assert len(volume.slices) == 3 and volume.slices[0].pixels[47 - 7, 39 - 5] == 0  # the darkest level


@pytest.mark.parametrize(("slope", "inter", "inverted"), [(1e38, 0.0, False), (1.0, -1e38, False), (2.5, 100.0, False),
                                                         (-3e37, 5e37, True), (0.0, 7.0, False)])
def test_scaling_changes_nothing_shown_but_its_sign(slope, inter, inverted):
    """Each slice is stretched by its own range, so scl_slope and scl_inter change nothing shown but the slope's sign.
    Applied in float32, a slope of 1e38 made the voxels infinite (drawn darkest: 4 gray levels) and an intercept of
    -1e38 made every slice blank. (A slope of 0 means no scaling.)"""
    import nibabel as nib

    data = (np.random.default_rng(0).random((40, 48, 3)) * 1000).astype(np.int16)
    expected = robust_uint8((-data if inverted else data)[:, :, 1].T[::-1, ::-1].astype(np.float32))
    (volume,) = read_volumes(_patched(nib.Nifti1Image(data, np.eye(4)).to_bytes(), 112, "<ff", slope, inter),
                             name="x.nii")
    assert np.array_equal(volume.slices[1].pixels, expected)
