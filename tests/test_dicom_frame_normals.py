"""Frames of one plane whose normals point opposite ways (a reversed row or column direction): one orientation, kept
in the series and ordered along the plane's normal, not left out as if they were a localizer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dicom_factory import flat_slice, make_dataset, to_bytes, with_raw_element

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
    stored = np.zeros((3, 32, 32), np.uint8)  # MIN_SCAN_SIDE: a file of smaller frames is refused once
    stored[:, 0, :8], stored[:, 3, 0] = 200, 100  # neither mirror- nor transpose-symmetric
    stored[:, 8, 8] = [10, 20, 30]
    ds = make_dataset(stored, position=0.0, SliceThickness=5.0)
    ds.NumberOfFrames, ds.ImageOrientationPatient = 3, FLAT
    (volume,) = read_volumes(to_bytes(ds), name="mf.dcm")
    assert volume.notes == (f"3 of 3 frames {SAID} and shown as stored, not turned to a conventional view",)
    assert all(np.array_equal(s.pixels, stored[k]) for k, s in enumerate(volume.slices))
    scans = " ".join((Path(__file__).parents[1] / "docs" / "SCANS.md").read_text(encoding="utf-8").split())
    assert ("by Instance Number (a multi-frame file's frames in their stored order), said in the notes, which say too "
            "that images of no slice normal or an unreadable orientation are `shown as stored, not turned to a "
            "conventional view`") in scans


UNREAD = "with an Image Orientation (Patient) that cannot be read (not 6 finite numbers)"
AS_STORED = "shown as stored, not turned to a conventional view"
#: Image Orientation (Patient) values a header may hold that give no orientation: NaN, too few or too many values,
#: text, infinity, and a single NaN (raw DS bytes, as pydicom would not write them).
BAD_ORIENTATIONS = [b"NaN\\0\\0\\0\\1\\0 ", b"1\\0\\0\\0\\1 ", b"1\\0\\0\\0\\1\\0\\0 ", b"a\\b\\c\\d\\e\\f ",
                    b"1\\0\\0\\0\\1\\inf ", b"NaN "]


def _slice_file(k: int, orientation: bytes | None, frames: int = 1) -> bytes:
    """Slice k of a series (or a legacy file of ``frames`` frames, 5 mm apart), mirrored as stored (flipped top-bottom
    by an orientation of columns to anterior), its Image Orientation (Patient) rewritten to ``orientation``."""
    stored = np.stack([flat_slice(k + f) for f in range(frames)]) if frames > 1 else flat_slice(k)
    stored[..., :8, :] = 255  # top rows marked: flipped, they would be at the bottom
    ds = make_dataset(stored, position=5.0 * k, instance=k + 1, series_uid="1.2.3", SliceThickness=5.0)
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.ImageOrientationPatient = REVERSED
    data = to_bytes(ds)
    return data if orientation is None else with_raw_element(data, "ImageOrientationPatient", b"DS", orientation)


@pytest.mark.parametrize("orientation", BAD_ORIENTATIONS)
def test_an_image_whose_orientation_cannot_be_read_is_said_to_be_shown_as_stored(orientation, tmp_path):
    """An Image Orientation (Patient) of NaN, 5 or 7 values or text was shown as stored without a word (one of no slice
    normal, or too oblique, was said so): a single file, a multi-frame file and a series say it, and are still read."""
    (single,) = read_volumes(_slice_file(0, orientation), name="x.dcm")
    assert single.error is None and single.notes == (f"1 image {UNREAD}: {AS_STORED}",)
    assert (single.slices[0].pixels[:8] == 255).all()  # as stored: not flipped
    (multi,) = read_volumes(_slice_file(0, orientation, frames=3), name="mf.dcm")
    assert multi.notes == (f"3 of 3 frames {UNREAD}: kept in the file's frame order and {AS_STORED}",)
    assert [int(s.pixels[-1, 0]) for s in multi.slices] == [int(flat_slice(k)[0, 0]) for k in range(3)]
    for k in range(3):
        (tmp_path / f"IM{k}").write_bytes(_slice_file(k, orientation if k == 1 else None))
    (series,) = read_volumes(tmp_path)
    assert series.notes[0] == (f"1 of 3 images {UNREAD}: ordered by Instance Number; the one whose orientation cannot "
                               f"be read {AS_STORED}")
    assert [(s.pixels[:8] == 255).all() for s in series.slices] == [False, True, False]  # the other two turned


def test_an_empty_orientation_is_as_absent_and_said_nothing_of():
    (volume,) = read_volumes(_slice_file(0, b""), name="x.dcm")
    assert volume.notes == () and (volume.slices[0].pixels[:8] == 255).all()
