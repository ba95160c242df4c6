"""Decoding a DICOM series holds its pixels about once, not four times: pydicom kept each file's bytes beside the
values it copied out of them, and each file's decoded array beside its stored pixels, until the series' last slice."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from dicom_factory import series

from braintumor.slice_pixels import robust_uint8
from braintumor.volume_io import read_volumes


@pytest.mark.parametrize("per_input", [True, False])
def test_a_series_peaks_under_two_and_a_half_times_its_pixel_bytes(tmp_path, per_input):
    """64 slices of 256 x 256 int16 read from a folder (as predict reads one): the peak was 4.1 times their bytes
    (3.9 series by series); the slices are the same as ever (each stretched by its own percentiles)."""
    rng = np.random.default_rng(0)
    slices = [rng.integers(0, 1000, (256, 256)).astype(np.int16) for _ in range(64)]
    for name, data in series(slices):
        (tmp_path / name).write_bytes(data)
    tracemalloc.start()
    try:
        volumes = read_volumes(tmp_path, per_input=per_input)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    pixel_bytes = sum(s.nbytes for s in slices)
    assert peak < 2.5 * pixel_bytes, f"peak {peak / pixel_bytes:.2f} times the pixel bytes"
    got = [s.pixels for s in volumes[0].slices]
    assert len(got) == 64 and all(np.array_equal(g, robust_uint8(want)) for g, want in zip(got, slices, strict=True))
