"""The pixel budget counts a scan's pixels as its slices hold them, resampled to square pixels (up to twice the
voxels), from the header before decoding: a zip or web request subtracts its slices' pixels after, and the two agree.
It was checked against the voxels alone, so one member could take up to twice what was left and the next was refused
as if the budget were spent."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dicom_factory import make_dataset, to_bytes, zip_bytes

from braintumor.volume_io import BudgetError, read_volumes

#: 40 x 40 x 10 voxels of 1 x 1.9 x 1 mm: axial slices of 40 x 40 voxels, 76 rows x 40 columns once square.
SHAPE, MM, MADE = (40, 40, 10), (1.0, 1.9, 1.0), 10 * 76 * 40


def _nifti(shape: tuple[int, ...] = SHAPE, mm: tuple[float, ...] = MM) -> bytes:
    import nibabel as nib

    voxels = np.random.default_rng(1).integers(0, 1000, shape).astype(np.int16)
    return nib.Nifti1Image(voxels, np.diag([*mm, 1.0])).to_bytes()


def test_a_nifti_volume_is_checked_by_its_pixels_once_square_before_decoding():
    (volume,) = read_volumes(_nifti(), name="a.nii", max_pixels=MADE)  # exactly what it makes: it fits
    assert sum(s.pixels.size for s in volume.slices) == MADE
    said = f"NIfTI volume has 16,000 voxels, {MADE:,} pixels once resampled to square pixels; the limit is {MADE - 1:,}"
    with pytest.raises(BudgetError, match="^" + re.escape(said) + "$"):
        read_volumes(_nifti(), name="a.nii", max_pixels=MADE - 1)  # its 16,000 voxels were within it
    with pytest.raises(BudgetError, match=r"^NIfTI volume has 16,000 voxels; the limit is 15,999$"):  # square: as was
        read_volumes(_nifti(mm=(1.0, 1.0, 1.0)), name="b.nii", max_pixels=15_999)


def test_a_zip_member_takes_no_more_than_was_left_and_the_next_gets_what_it_left():
    small = _nifti((40, 40, 2), (1.0, 1.0, 1.0))  # 3,200 pixels
    data = zip_bytes([("a.nii", _nifti()), ("b.nii", small)])
    volumes = read_volumes(data, name="z.zip", max_pixels=MADE + 3_200, per_input=True)  # both fit exactly
    assert [sum(s.pixels.size for s in v.slices) for v in volumes] == [MADE, 3_200]
    with pytest.raises(BudgetError, match=r"^the zip holds more than 33,599 pixels \(at b\.nii\); the limit is "):
        read_volumes(data, name="z.zip", max_pixels=MADE + 3_199, per_input=True)  # a took what it was checked for
    # a past what was left: refused itself, where it was read and b refused as if a had fitted (a web request reads
    # a zip so, its earlier scans' pixels subtracted)
    with pytest.raises(BudgetError, match=r"^a\.nii: NIfTI volume has 16,000 voxels, 30,400 pixels once resampled"):
        read_volumes(data, name="z.zip", max_pixels=20_000, per_input=True)


def test_a_dicom_file_is_checked_by_its_pixels_once_square_before_decoding():
    ds = make_dataset(np.random.default_rng(2).integers(0, 1000, (40, 40)).astype(np.uint16))
    ds.PixelSpacing = [1.9, 1.0]  # rows 1.9 mm apart: 76 x 40 once square
    (volume,) = read_volumes(to_bytes(ds), name="x.dcm", max_pixels=76 * 40)
    assert volume.slices[0].pixels.shape == (76, 40)
    with pytest.raises(BudgetError, match=r"^the DICOM input would decode to 3,040 pixels; the limit is 3,039$"):
        read_volumes(to_bytes(ds), name="x.dcm", max_pixels=76 * 40 - 1)
    ds.PixelSpacing = [1.0, 1.0]
    (volume,) = read_volumes(to_bytes(ds), name="x.dcm", max_pixels=40 * 40)
    assert volume.slices[0].pixels.shape == (40, 40)


def test_a_web_request_subtracts_what_it_checked_each_scan_for(clf, monkeypatch):
    """A request's scans share one pixel budget: the scan after one of non-square voxels gets what that one's check
    left, exactly, and one past what was left is refused itself, not the scan after it."""
    import braintumor.web.volumes as web_volumes
    from braintumor.web.inference import Upload

    uploads = [Upload("a.nii", _nifti()), Upload("b.nii", _nifti((40, 40, 2), (1.0, 1.0, 1.0)))]
    monkeypatch.setattr(web_volumes, "MAX_INPUT_PIXELS", MADE + 3_200)
    answered = web_volumes.classify_entries(clf, uploads)
    assert [len(e.records) for e in answered] == [10, 2] and not any("error" in r for e in answered for r in e.records)
    monkeypatch.setattr(web_volumes, "MAX_INPUT_PIXELS", MADE + 3_199)
    short = web_volumes.classify_entries(clf, uploads)
    assert short[-1].records == [{"path": "b.nii", "error": f"NIfTI volume has 3,200 voxels; the limit is "
                                  f"{MADE + 3_199:,} pixels per request, and this request's earlier scans took "
                                  f"{MADE:,} of them: send it on its own"}]
    monkeypatch.setattr(web_volumes, "MAX_INPUT_PIXELS", 20_000)  # a's voxels fit; its pixels, square, do not
    (refused, after) = web_volumes.classify_entries(clf, uploads)
    assert refused.records == [{"path": "a.nii", "error": f"NIfTI volume has 16,000 voxels, {MADE:,} pixels once "
                                "resampled to square pixels; the limit is 20,000"}]
    assert len(after.records) == 2 and not any("error" in r for r in after.records)


def test_a_dicom_pixel_spacing_near_the_float_limit_is_read_square_by_its_ratio():
    """Pixel Spacing '1e308\\6e307' (a ratio of 1.67, as 1.9 x 1.14 mm) made 40 x 67 pixels: h * row_mm overflowed
    to infinity before it was divided, and the scan was 'could not be read: the reader failed on it'."""
    ds = make_dataset(np.random.default_rng(2).integers(0, 1000, (40, 40)).astype(np.uint16))
    ds.PixelSpacing = ["1e308", "6e307"]
    (volume,) = read_volumes(to_bytes(ds), name="x.dcm", max_pixels=67 * 40)
    assert volume.slices[0].pixels.shape == (67, 40)


def test_pixels_merged_to_square_ones_take_what_was_decoded_for_them():
    """Pixels of 1 x 2.5 mm are merged to square ones (80 x 40 voxels a slice held as 32 x 40): the budget counts what
    was decoded, the more of the two. Counted as held alone, a volume of 1 x 50 mm pixels decoded fifty times what a
    zip or web request had left, and left the next scan as much again."""
    merged = _nifti((80, 40, 10), (1.0, 2.5, 1.0))
    (volume,) = read_volumes(merged, name="a.nii", max_pixels=32_000)
    assert sum(s.pixels.size for s in volume.slices) == 10 * 32 * 40
    with pytest.raises(BudgetError, match=r"^NIfTI volume has 32,000 voxels; the limit is 31,999$"):
        read_volumes(merged, name="a.nii", max_pixels=31_999)  # its 12,800 pixels held fitted
    data = zip_bytes([("a.nii", merged), ("b.nii", _nifti((40, 40, 2), (1.0, 1.0, 1.0)))])
    assert len(read_volumes(data, name="z.zip", max_pixels=32_000 + 3_200, per_input=True)) == 2
    with pytest.raises(BudgetError, match=r"^the zip holds more than 35,199 pixels \(at b\.nii\)"):
        read_volumes(data, name="z.zip", max_pixels=32_000 + 3_199, per_input=True)  # a took 32,000 (12,800: room)
    ds = make_dataset(np.random.default_rng(2).integers(0, 1000, (40, 40)).astype(np.uint16))
    ds.PixelSpacing = [1.0, 2.5]  # 16 x 40 once square
    (volume,) = read_volumes(to_bytes(ds), name="x.dcm", max_pixels=1_600)
    assert volume.slices[0].pixels.shape == (16, 40)
    with pytest.raises(BudgetError, match=r"^the DICOM input would decode to 1,600 pixels; the limit is 1,599$"):
        read_volumes(to_bytes(ds), name="x.dcm", max_pixels=1_599)


def test_a_web_request_subtracts_what_merged_pixels_decoded(clf, monkeypatch):
    """A scan whose pixels were merged to square ones takes of a request's budget what was decoded for it (32,000),
    not what its slices hold (12,800): the next scan gets what is left of the 32,000."""
    import braintumor.web.volumes as web_volumes
    from braintumor.web.inference import Upload

    uploads = [Upload("a.nii", _nifti((80, 40, 10), (1.0, 2.5, 1.0))),
               Upload("b.nii", _nifti((40, 40, 2), (1.0, 1.0, 1.0)))]
    monkeypatch.setattr(web_volumes, "MAX_INPUT_PIXELS", 32_000 + 3_199)
    answered = web_volumes.classify_entries(clf, uploads)
    assert answered[-1].records == [{"path": "b.nii", "error": "NIfTI volume has 3,200 voxels; the limit is 35,199 "
                                     "pixels per request, and this request's earlier scans took 32,000 of them: "
                                     "send it on its own"}]
