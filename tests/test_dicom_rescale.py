"""A DICOM's Rescale Slope and Intercept that leave nothing to show (a slope of 1e308, an intercept of 1e308, a NaN
slope) are refused as such, where the slice came out blank or in two gray levels and was classified ('blank or nearly
uniform image', 'its features are far from every training slice'); an absurd slope that float64 holds is still read."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import make_dataset, make_dicom, to_bytes, zip_bytes

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes
from braintumor.wording import EXPORT_AGAIN

NOT_FINITE = ("DICOM pixel values cannot be mapped to gray levels (its Rescale Slope and Intercept give values that "
              f"are not finite: too large to hold, or NaN): {EXPORT_AGAIN}")
ONE_VALUE = ("DICOM pixel values cannot be mapped to gray levels (its Rescale Slope and Intercept give every pixel the "
             f"same value): {EXPORT_AGAIN}")


def _stored(gray: np.ndarray) -> np.ndarray:
    return gray.astype(np.uint16) * 4 + 7  # 12 bits of a real slice's levels


def _pixels(data: bytes) -> np.ndarray:
    (volume,) = read_volumes(data, name="x.dcm")
    (sl,) = volume.slices
    return sl.pixels


@pytest.mark.parametrize(("slope", "intercept", "window", "said"), [
    ("1e308", "0", False, NOT_FINITE),  # 0 and 1 stored stay finite: two gray levels, classified
    ("-1e308", "0", False, NOT_FINITE),
    ("1e308", "0", True, NOT_FINITE),  # a window over infinite values: two levels again
    ("1e305", "1.7e308", False, NOT_FINITE),  # overflows as the intercept is added
    ("nan", "0", False, NOT_FINITE),  # was shown as stored, as if absent
    ("nan", "1", False, NOT_FINITE),  # was blank
    ("inf", "1", False, NOT_FINITE),
    ("1", "1e308", False, ONE_VALUE),  # the stored values are lost in the intercept's rounding: was blank
    ("1", "-1e308", False, ONE_VALUE),
    ("0", "0", False, ONE_VALUE),
])
def test_a_rescale_that_leaves_nothing_to_show_is_refused_as_such(gray, slope, intercept, window, said):
    extra = {"WindowCenter": "500", "WindowWidth": "1000"} if window else {}
    with pytest.raises(ImageError) as refused:
        read_volumes(make_dicom(_stored(gray), bits=12, RescaleSlope=slope, RescaleIntercept=intercept, **extra),
                     name="x.dcm")
    assert str(refused.value) == said


def test_a_file_of_such_a_rescale_is_skipped_in_its_series_and_said(gray):
    from pydicom.uid import generate_uid

    uid = generate_uid()
    files = [(f"IM{k}", make_dicom(_stored(gray), bits=12, series_uid=uid, instance=k + 1, position=5.0 * k,
                                   RescaleSlope="1e308" if k == 1 else "1", RescaleIntercept="0")) for k in range(3)]
    (volume,) = read_volumes(zip_bytes(files), name="s.zip")
    assert len(volume.slices) == 2
    assert f"skipped 1 file of this series: {NOT_FINITE}" in volume.notes


@pytest.mark.parametrize("slope", [2.0 ** 130, 2.0 ** 1000, 2.0 ** -1000])  # 2**130: past float32's largest
def test_an_absurd_slope_that_float64_holds_shows_the_image_as_a_slope_of_1_does(gray, slope):
    """pydicom rescales in float64: a slope past float32's largest (3.4e38) overflows nothing there, and a power of two
    changes no gray level of the stretch; nor for Float Pixel Data (float32 as stored)."""
    stored = _stored(gray)
    plain = _pixels(make_dicom(stored, bits=12, RescaleSlope="1", RescaleIntercept="0"))
    assert len(np.unique(plain)) > 100
    assert np.array_equal(_pixels(make_dicom(stored, bits=12, RescaleSlope=repr(slope), RescaleIntercept="0")), plain)
    ds = make_dataset(None, RescaleSlope=repr(slope), RescaleIntercept="0")
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.BitsAllocated = 1, "MONOCHROME2", 32
    ds.FloatPixelData = stored.astype(np.float32).tobytes()
    assert np.array_equal(_pixels(to_bytes(ds)), plain)


def test_float_pixels_stored_as_nan_are_not_a_rescale_problem(gray):
    """Only the pixels stored as numbers are asked: float pixel data's NaN background stays the stretch's to show."""
    values = _stored(gray).astype(np.float32)
    values[:8] = np.nan
    ds = make_dataset(None, RescaleSlope="2", RescaleIntercept="-3")
    ds.Rows, ds.Columns = values.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.BitsAllocated = 1, "MONOCHROME2", 32
    ds.FloatPixelData = values.tobytes()
    assert len(np.unique(_pixels(to_bytes(ds)))) > 100


def test_the_api_and_the_scans_reference_say_it(gray, clf):
    """POST /api/v1/predict answered 200 with probabilities and 'unlike the brain MRI slices ...: blank or nearly
    uniform image'; it is a 400 naming the rescale, as docs/SCANS.md (README's before) says."""
    import io
    from pathlib import Path

    from braintumor.web import create_app

    data = make_dicom(_stored(gray), bits=12, RescaleSlope="1", RescaleIntercept="1e308")
    r = create_app(classifier=clf).test_client().post(
        "/api/v1/predict", data={"file": (io.BytesIO(data), "x.dcm")}, content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["results"] == [{"path": "x.dcm", "error": ONE_VALUE}]
    scans = " ".join((Path(__file__).parents[1] / "docs" / "SCANS.md").read_text(encoding="utf-8").split())
    assert ("one that gives values that are not finite, such as a slope of 1e308 or NaN, or every pixel the same "
            "value, such as an intercept of 1e308, is refused: `DICOM pixel values cannot be mapped to gray levels "
            "(its Rescale Slope and Intercept give ...)`") in scans


def test_a_nan_slope_without_an_intercept_leaves_8_bit_pixels_as_they_are(gray):
    """pydicom rescales only with both values: a slope alone, NaN or not, changes nothing, and 8-bit data without a
    window is its own display (not stretched because a NaN slope counted as a rescale)."""
    assert np.array_equal(_pixels(make_dicom(gray, RescaleSlope="nan")), gray)


@pytest.mark.parametrize("slope", ["1e-320", repr(2.0 ** -1070)])  # subnormal numbers: past 255 / float64's largest
def test_a_slope_so_small_its_values_are_subnormal_still_shows_the_image(gray, slope):
    """The stretch's factor, 255 over a range of 1e-317, overflowed: every pixel NaN or 255, a two-level slice
    classified as unlike brain MRI. Divided by the range instead, the image is the slope of 1's, to a level."""
    stored = _stored(gray)
    plain = _pixels(make_dicom(stored, bits=12, RescaleSlope="1", RescaleIntercept="0")).astype(int)
    tiny = _pixels(make_dicom(stored, bits=12, RescaleSlope=slope, RescaleIntercept="0")).astype(int)
    assert len(np.unique(tiny)) > 100 and np.abs(tiny - plain).max() <= 1
