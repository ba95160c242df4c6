"""Frames of one plane whose normals point opposite ways (a reversed row or column direction): one orientation, kept
in the series and ordered along the plane's normal, not left out as if they were a localizer."""

from __future__ import annotations

from pathlib import Path

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


FLAT = [1, 0, 0, 1, 0, 0]  # row and column parallel: no slice normal
SAID = "with an orientation of no slice normal (its row and column directions parallel or zero): kept in the file's " \
    "frame order"


@pytest.mark.parametrize(("facing", "note"), [
    ([FLAT] * 3, f"3 of 3 frames {SAID} and shown as stored, not turned to a conventional view"),
    ([AXIAL, FLAT, REVERSED], f"1 of 3 frames {SAID}; the one of no slice normal shown as stored, not turned to a "
                              "conventional view"),
])
def test_frames_of_no_slice_normal_are_said_kept_in_order_and_shown_as_stored(facing, note):
    """A multi-frame file's note said 'kept in the file's frame order' alone, where a single file's said 'shown as
    stored, not turned to a conventional view': both say what order, and how the frames of no normal are shown."""
    (volume,) = read_volumes(_enhanced(facing, [10.0, 0.0, 5.0]), name="mf.dcm")
    assert volume.notes[0] == note  # (then, for the reversed frame: "1 axial image stored flipped top-bottom ...")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in range(3)]


def test_a_legacy_multi_frame_file_of_no_slice_normal_is_not_said_to_lack_an_orientation():
    """Its frames past the first have no position (none to derive along no normal): they were '2 of 3 frames without
    a position or orientation and 1 of 3 frames with an orientation of no slice normal', though all three have its
    orientation; each frame is shown as stored, as the note says."""
    stored = np.zeros((3, 16, 16), np.uint8)
    stored[:, 0, :8], stored[:, 3, 0] = 200, 100  # neither mirror- nor transpose-symmetric
    stored[:, 8, 8] = [10, 20, 30]
    ds = make_dataset(stored, position=0.0, SliceThickness=5.0)
    ds.NumberOfFrames, ds.ImageOrientationPatient = 3, FLAT
    (volume,) = read_volumes(to_bytes(ds), name="mf.dcm")
    assert volume.notes == (f"3 of 3 frames {SAID} and shown as stored, not turned to a conventional view",)
    assert all(np.array_equal(s.pixels, stored[k]) for k, s in enumerate(volume.slices))
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8").split())
    assert ("by Instance Number (a multi-frame file's frames in their stored order), said in the notes, which say too "
            "that images of no slice normal are `shown as stored, not turned to a conventional view`;") in readme
