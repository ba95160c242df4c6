"""Frames of one plane whose normals point opposite ways (a reversed row or column direction): one orientation, kept
in the series and ordered along the plane's normal, not left out as if they were a localizer."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import flat_slice, make_dataset, to_bytes

from braintumor.volume_io import read_volumes

ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"


def _enhanced(orientations: list[list[float]], z: list[float]) -> bytes:
    """An Enhanced MR multi-frame file: frame k at ``z[k]`` mm with per-frame orientation ``orientations[k]``, its
    pixels flat_slice(k) (one gray level: where it went is read off any pixel, however it is turned)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = make_dataset(np.stack([flat_slice(k) for k in range(len(z))]), sop_class=ENHANCED_MR)
    ds.NumberOfFrames = len(z)
    per_frame = []
    for facing, where in zip(orientations, z, strict=True):
        group, position, orientation = Dataset(), Dataset(), Dataset()
        position.ImagePositionPatient = [-100.0, -100.0, where]
        orientation.ImageOrientationPatient = facing
        group.PlanePositionSequence = Sequence([position])
        group.PlaneOrientationSequence = Sequence([orientation])
        per_frame.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    return to_bytes(ds)


AXIAL, REVERSED = [1, 0, 0, 0, 1, 0], [1, 0, 0, 0, -1, 0]  # normals +z and -z: the same axial plane


@pytest.mark.parametrize("reversed_frames", [(3, 4), (0, 2), (1,), (0, 1, 2, 3, 4)])
def test_frames_whose_normal_is_reversed_are_kept_in_order(reversed_frames):
    """Two of five axial frames stored with the column direction reversed were "left out 2 image(s) facing another
    way than the series' 3 (a localizer?)": the same plane, so the same series."""
    z = [20.0, 0.0, 10.0, 5.0, 15.0]
    facing = [REVERSED if k in reversed_frames else AXIAL for k in range(5)]
    (volume,) = read_volumes(_enhanced(facing, z), name="mf.dcm")
    assert not any("facing another way" in n for n in volume.notes)
    assert [s.meta["dicom"]["image_position"][2] for s in volume.slices] == sorted(z)  # inferior to superior
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in (1, 3, 2, 4, 0)]


def test_a_frame_of_another_plane_is_still_left_out():
    facing = [AXIAL, AXIAL, [0, 1, 0, 0, 0, -1], REVERSED]
    (volume,) = read_volumes(_enhanced(facing, [0.0, 5.0, 0.0, 10.0]), name="mf.dcm")
    assert [s.meta["dicom"]["image_position"][2] for s in volume.slices] == [0.0, 5.0, 10.0]
    assert "left out 1 image facing another way than the series' 3 (a localizer?)" in volume.notes
