"""A refusal for size says what to do, not only the limit: "image is 60000x60000 pixels; the limit is 40,000,000
pixels" left the user to guess that a smaller copy would do (the model reads a slice at a few hundred pixels)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dicom_factory import make_dataset, to_bytes, zip_bytes
from test_image_refusals import _png_header_only

import braintumor.image_io as image_io
import braintumor.zip_io as zip_io
from braintumor.image_io import MAX_PIXELS, ImageError, check_pixels, read_image
from braintumor.volume_io import read_volumes
from braintumor.wording import DOWNSCALE

LIMIT = f"the limit is {MAX_PIXELS:,} pixels: {DOWNSCALE}"


def test_an_image_past_the_pixel_limit_is_told_to_downscale():
    with pytest.raises(ImageError, match=f"^image is 60000x60000 pixels; {re.escape(LIMIT)}$"):
        check_pixels(60_000, 60_000)
    with pytest.raises(ImageError, match=f"^image is 60000x60000 pixels; {re.escape(LIMIT)}$"):
        read_image(_png_header_only(60_000, 60_000))  # its header, before any pixel
    assert DOWNSCALE.startswith("downscale it (") and DOWNSCALE.endswith("and send it again")


def test_a_dicom_image_past_the_pixel_limit_is_told_the_same():
    ds = make_dataset(np.zeros((8, 8), np.uint16))
    ds.Rows = ds.Columns = 9000
    with pytest.raises(ImageError, match=f"^DICOM image is 9000x9000 pixels; {re.escape(LIMIT)}$"):
        read_volumes(to_bytes(ds))


def test_image_bytes_past_the_file_limit_are_told_to_downscale(monkeypatch):
    data = _png_header_only(64, 64)
    monkeypatch.setattr(image_io, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(ImageError, match=re.escape(f"the limit is {len(data) - 1} bytes: {DOWNSCALE}") + "$"):
        read_image(data)


def test_a_zip_past_the_unpacked_limit_is_told_to_send_its_series_apart(monkeypatch):
    monkeypatch.setattr(zip_io, "MAX_VOLUME_BYTES", 1_000_000)
    with pytest.raises(ImageError, match=r"^zip archive would expand to 3000000 bytes; the limit is 1000000: zip its "
                                         r"series apart \(a zip each\) and send them one by one$"):
        read_volumes(zip_bytes([("zeros.dcm", bytes(3_000_000))]), name="x.zip")
