"""A slice whose background is padding (int16's -32768, or a DICOM Pixel Padding Value) is stretched by the levels of
what it images: it was stretched from -32768, and a head of 0..1000 came out in a handful of gray levels, nearly flat.
A slice without padding comes out exactly as before."""

from __future__ import annotations

import numpy as np
from dicom_factory import axial_volume, make_dataset, make_dicom, nifti_bytes, to_bytes

from braintumor.slice_pixels import scale_to_uint8
from braintumor.volume_io import read_volumes


def _head(background: int, low: int = 0, high: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """A 128 x 128 int16 slice: a disk of values ``low``..``high`` (a ramp) on ``background``, and the disk's mask."""
    y, x = np.mgrid[:128, :128]
    disk = (y - 64) ** 2 + (x - 64) ** 2 < 45 ** 2
    ramp = low + (x + y - (x + y)[disk].min()) * (high - low) // np.ptp((x + y)[disk])
    return np.where(disk, ramp, background).astype(np.int16), disk


def _before(arr: np.ndarray) -> np.ndarray:
    """The stretch as it was: by the percentiles of every pixel."""
    return scale_to_uint8(arr.astype(np.float64), *np.percentile(arr.astype(np.float64), [0.5, 99.5]))


def _slice(data: bytes, name: str) -> np.ndarray:
    (volume,) = read_volumes(data, name=name)
    return volume.slices[0].pixels


def test_a_head_on_int16_padding_is_spread_over_the_gray_levels():
    """DICOM without a Pixel Padding Value, and NIfTI: 8 levels for the head before, now all the ramp's (123); the
    padding black."""
    arr, disk = _head(-32768)
    assert len(np.unique(_before(arr)[disk])) < 10  # what it was
    for gray in (_slice(make_dicom(arr), "a.dcm"), _slice(nifti_bytes(axial_volume([arr] * 2)), "a.nii.gz")):
        assert len(np.unique(gray[disk])) > 100 and not gray[~disk].any()


def test_a_pixel_padding_value_is_left_out_of_the_stretch():
    """-1000 around 0..2000 is not far enough below to be taken for padding by itself: the header says it is; written
    unsigned (US 64536) for signed pixels, as some writers do, it is the same value."""
    arr, disk = _head(-1000, 0, 2000)
    assert _before(arr)[disk].min() > 80  # the head started at a third of the way up
    for vr, value in (("SS", -1000), ("US", 64536)):
        ds = make_dataset(arr)
        ds.add_new(0x00280120, vr, value)  # (0028,0120) Pixel Padding Value
        gray = _slice(to_bytes(ds), "p.dcm")
        assert gray[disk].min() == 0 and gray[disk].max() == 255 and not gray[~disk].any()
    assert np.array_equal(_slice(make_dicom(arr), "n.dcm"), _before(arr))  # without it: as before


def test_slices_without_padding_come_out_as_before():
    """A background of 0 (MRI's own), a few very low outliers, negative values that are tissue (z-scores x 100), a
    flat head on padding: the same levels as ever."""
    zero, _ = _head(0)
    outliers = zero.copy()
    outliers[0, :40] = -32768  # 40 pixels of 16 384: under the low percentile
    scored, _ = _head(-300, -250, 300)
    flat, _ = _head(-32768, 700, 700)
    for arr in (zero, outliers, scored):
        assert np.array_equal(_slice(make_dicom(arr), "a.dcm"), _before(arr))
        assert np.array_equal(_slice(nifti_bytes(axial_volume([arr] * 2)), "a.nii.gz"), _before(arr))
    assert np.array_equal(np.unique(_slice(make_dicom(flat), "f.dcm")), [0, 255])


def _scaled(arr: np.ndarray, slope: float, inter: float) -> bytes:
    """A one-slice-pair NIfTI of stored values ``arr`` under scl_slope ``slope`` and scl_inter ``inter``."""
    import nibabel as nib

    img = nib.Nifti1Image(axial_volume([arr] * 2), np.eye(4))
    img.header.set_slope_inter(slope, inter)
    return img.to_bytes()


def test_padding_under_a_negative_slope_is_left_out_as_under_a_positive_one():
    """Stored as -32768 around a head of 1000 - ramp under scl_slope -1 and scl_inter 1000 (the head's values the
    ramp), the padding is the brightest value once scaled: the head came out in 8 gray levels on white. Now it is the
    slice the same head gives on -32768 under a positive slope. Padding at the lowest scaled value (32767 under -1), or
    none: as before."""
    arr, disk = _head(-32768)
    stored = np.where(disk, 1000 - arr, -32768).astype(np.int16)
    want = _slice(_scaled(arr, 1.0, 0.0), "p.nii")
    assert len(np.unique(want[disk])) > 100 and not want[~disk].any()
    assert np.array_equal(_slice(_scaled(stored, -1.0, 1000.0), "n.nii"), want)
    high = np.where(disk, arr, 32767).astype(np.int16)  # padding that is the lowest value once scaled: as it was
    assert np.array_equal(_slice(_scaled(high, -1.0, 0.0), "h.nii"), _slice(_scaled(-high, 1.0, 0.0), "h.nii"))
    zero, _ = _head(0)  # no padding: the negative's levels
    assert np.array_equal(_slice(_scaled(zero, -1.0, 0.0), "z.nii"), _before(-zero))


def test_dicom_padding_under_a_negative_rescale_slope_is_left_out_as_under_a_positive_one():
    """DICOM as NIfTI: -32768 around a head stored under Rescale Slope -1 is the brightest value once rescaled, and the
    head came out in a handful of gray levels on white. Now the same rescaled head gives the same slice under either
    slope, and the same stored head under -1 the mirror of its levels (the values are what they are: no MONOCHROME1
    inversion), padding black in both; so is a Pixel Padding Value's."""
    arr, disk = _head(-32768)
    want = _slice(make_dicom(arr, RescaleSlope=1, RescaleIntercept=0), "p.dcm")
    assert len(np.unique(want[disk])) > 100 and not want[~disk].any()
    stored = np.where(disk, 1000 - arr, -32768).astype(np.int16)
    assert np.array_equal(_slice(make_dicom(stored, RescaleSlope=-1, RescaleIntercept=1000), "n.dcm"), want)
    mirrored = _slice(make_dicom(np.where(disk, -arr, -32768).astype(np.int16)), "m.dcm")
    assert np.array_equal(_slice(make_dicom(arr, RescaleSlope=-1, RescaleIntercept=0), "s.dcm"), mirrored)
    assert mirrored[disk][np.argmax(arr[disk])] == 0 and not mirrored[~disk].any()
    head, disk = _head(-1000, 0, 2000)
    ds = make_dataset(head, RescaleSlope=-1, RescaleIntercept=0)
    ds.add_new(0x00280120, "SS", -1000)  # (0028,0120) Pixel Padding Value: 1000 once rescaled, above the head
    gray = _slice(to_bytes(ds), "v.dcm")
    assert gray[disk].min() == 0 and gray[disk].max() == 255 and not gray[~disk].any()


def _lut_dicom(arr: np.ndarray, table: np.ndarray, first: int = 0) -> bytes:
    """``arr`` stored under a Modality LUT Sequence of ``table`` (16-bit entries), its first entry for ``first``."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    item = Dataset()
    item.add_new(0x00283002, "US", [len(table), first, 16])  # (0028,3002) LUT Descriptor
    item.add_new(0x00283006, "OW", np.asarray(table, dtype="<u2").tobytes())  # (0028,3006) LUT Data
    item.ModalityLUTType = "US"
    ds = make_dataset(arr)
    ds.ModalityLUTSequence = Sequence([item])
    return to_bytes(ds)


def test_dicom_padding_under_a_falling_modality_lut_is_left_out_as_under_a_negative_slope():
    """A Modality LUT Sequence whose table falls (1000 - stored) maps -32768 (below its first entry's input) to its
    highest value, as Rescale Slope -1 does: padding was shown white, the head stretched under it. Now the slice is
    the same slope's, padding black; a rising table's padding, its lowest value, is black as ever."""
    arr, disk = _head(-32768)
    falling = _slice(_lut_dicom(arr, 1000 - np.arange(1001)), "f.dcm")
    assert np.array_equal(falling, _slice(make_dicom(arr, RescaleSlope=-1, RescaleIntercept=1000), "s.dcm"))
    assert not falling[~disk].any() and len(np.unique(falling[disk])) > 100
    rising = _slice(_lut_dicom(arr, np.arange(1001)), "r.dcm")
    assert not rising[~disk].any() and len(np.unique(rising[disk])) > 100
