"""A zip's NIfTI members past a web request's budget together are refused before any is decoded: two 512 x 512 x 256
members were decoded in full (3.6 s, +540 MB) before the third's header was past the slice limit."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from dicom_factory import zip_bytes

from braintumor import nifti_io
from braintumor.volume_io import BudgetError, read_volumes


def _member(slices: int, labels: bool = False, gz: bool = True) -> bytes:
    import nibabel as nib

    rng = np.random.default_rng(slices)
    data = rng.integers(0, 4 if labels else 1000, (40, 40, slices)).astype(np.int16)
    plain = nib.Nifti1Image(data, np.eye(4)).to_bytes()
    return gzip.compress(plain) if gz else plain


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    """The names of the members decoded (cut into slices) by read_nifti."""
    names: list[str] = []
    real = nifti_io.read_nifti
    monkeypatch.setattr(nifti_io, "read_nifti", lambda data, where, *a: names.append(where) or real(data, where, *a))
    return names


def test_a_member_past_the_budget_is_refused_before_any_member_is_decoded(decoded):
    members = [("a.nii.gz", _member(30)), ("b.nii.gz", _member(30)), ("c.nii.gz", _member(20))]
    with pytest.raises(BudgetError) as caught:
        read_volumes(zip_bytes(members), name="scans.zip", max_slices=70, per_input=True)
    assert decoded == []  # a and b were decoded before c was refused
    assert str(caught.value) == "the zip holds more than 70 slices (at c.nii.gz); the limit is 70 per input"


def test_a_member_refused_for_its_values_still_takes_nothing_of_the_budget(decoded):
    """Headers past the budget together, a segmentation map among them: read as before, the map an error of its own
    and the scans within the budget (refused on the headers alone, the zip was said to be past it at seg.nii.gz)."""
    members = [("a.nii.gz", _member(30)), ("seg.nii.gz", _member(31, labels=True)), ("b.nii.gz", _member(32))]
    volumes = read_volumes(zip_bytes(members), name="scans.zip", max_slices=70, per_input=True)
    assert [(len(v.slices), bool(v.error)) for v in volumes] == [(30, False), (0, True), (32, False)]
    assert "segmentation map" in volumes[1].error and len(decoded) == 3


@pytest.fixture
def inflated(monkeypatch) -> list[int]:
    """The bytes each read of a zip member gave (zipfile inflating them)."""
    import zipfile

    sizes: list[int] = []
    real = zipfile.ZipExtFile.read

    def read(self, n: int = -1) -> bytes:
        got = real(self, n)
        sizes.append(len(got))
        return got

    monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
    return sizes


def test_plain_members_are_checked_on_their_header_bytes_not_inflated_twice(inflated, decoded):
    """The budget check before any member is decoded inflated each plain .nii member whole, then reading it inflated
    it again: a header's bytes say what it takes. Members within the budget are read once each, as before; a .nii.gz
    member's header is read from its first bytes too; members past it together are refused as before."""
    members = [("a.nii", _member(30, gz=False)), ("b.nii", _member(31, gz=False)), ("c.nii.gz", _member(9))]
    volumes = read_volumes(zip_bytes(members), name="scans.zip", max_slices=70, per_input=True)
    assert [len(v.slices) for v in volumes] == [30, 31, 9]
    whole = sum(len(data) for _, data in members)
    assert whole <= sum(inflated) <= whole + 3 * 4096  # was twice the members' bytes
    inflated.clear()
    with pytest.raises(BudgetError, match=r"^the zip holds more than 60 slices \(at b.nii\)"):
        read_volumes(zip_bytes(members), name="scans.zip", max_slices=60, per_input=True)
    assert decoded == ["scans.zip:a.nii", "scans.zip:b.nii", "scans.zip:c.nii.gz"]  # none past the budget
    decoded.clear()
    named = io.BytesIO()  # a gzip header naming its file in 5000 bytes: its NIfTI header is past the first read
    with gzip.GzipFile("n" * 5000, "wb", fileobj=named, mtime=0) as gz:
        gz.write(gzip.decompress(_member(30)))
    with pytest.raises(BudgetError, match=r"^the zip holds more than 60 slices \(at b.nii\)"):
        read_volumes(zip_bytes([("a.nii.gz", named.getvalue()), members[1]]), name="s.zip", max_slices=60,
                     per_input=True)
    assert decoded == []  # its header read whole, as before, and counted


def test_headers_are_read_only_until_they_are_past_the_budget_together(monkeypatch):
    """A zip of 600 two-slice members had all 600 headers read before the walk that refuses it read 257 of them again:
    the headers after the one past the budget decide nothing."""
    from braintumor import member_headers, zip_scans

    heads: list[str] = []
    real = member_headers.header_takes
    monkeypatch.setattr(zip_scans, "header_takes", lambda m, load: heads.append(m.filename) or real(m, load))
    members = [(f"m{i}.nii.gz", _member(2)) for i in range(40)]
    with pytest.raises(BudgetError, match=r"^the zip holds more than 20 slices \(at m10.nii.gz\)"):
        read_volumes(zip_bytes(members), name="scans.zip", max_slices=20, per_input=True)
    assert len(heads) == 11  # all 40 were read


@pytest.fixture
def checked(monkeypatch) -> list[str]:
    """The members whose voxels were inflated and checked (nifti_takes with ``values``) before any was decoded; those
    whose header alone was, as "head:NAME"."""
    names: list[str] = []
    real = nifti_io.nifti_takes

    def takes(data, where, *a, values=False):
        names.append(where if values else f"head:{where}")
        return real(data, where, *a, values=values)

    monkeypatch.setattr(nifti_io, "nifti_takes", takes)
    return names


def test_many_small_members_past_the_budget_are_refused_with_few_inflated(checked, decoded):
    """A zip of 600 two-slice members past 512 slices by their headers had 257 inflated and their voxels checked (0.7
    to 4 s) before it was refused: past the first CHECKED_MEMBERS, a member is counted by its header, and the refusal
    says so, with how many and what to do."""
    from braintumor.zip_scans import CHECKED_MEMBERS

    members = [(f"m{i}.nii.gz", _member(1)) for i in range(CHECKED_MEMBERS + 18)]
    limit = CHECKED_MEMBERS + 8
    with pytest.raises(BudgetError) as caught:
        read_volumes(zip_bytes(members), name="scans.zip", max_slices=limit, per_input=True)
    inflated = [name for name in checked if not name.startswith("head:")]
    assert len(inflated) == CHECKED_MEMBERS and decoded == []  # were limit + 1, all but the last fitting
    assert len(checked) - len(inflated) == limit + 2  # each header read once, the refused member's twice
    assert str(caught.value) == (
        f"the zip holds more than {limit} slices (at m{limit}.nii.gz); the limit is {limit} per input, 9 of the "
        f"zip's {len(members)} NIfTI members counted by their headers alone (past its first {CHECKED_MEMBERS}, only "
        "members named or marked as label maps are read to find one, as a map takes nothing): send them in several "
        "zips")


def _marked_map(slices: int) -> bytes:
    """A label map whose header's intent_code says so (NIFTI_INTENT_LABEL), under a name that does not."""
    import nibabel as nib

    data = np.random.default_rng(slices).integers(0, 4, (40, 40, slices)).astype(np.int16)
    image = nib.Nifti1Image(data, np.eye(4))
    image.header.set_intent("label")
    return gzip.compress(image.to_bytes())


def test_members_named_or_marked_as_maps_are_still_read_past_the_checked_ones(monkeypatch, checked):
    """Past CHECKED_MEMBERS, a member named as a map (seg, mask, label, ...) or whose header's intent_code marks it
    labels is read for its values, and a map takes nothing of the budget, as before; a map neither named nor marked
    so is counted by its header, and the refusal says that members were."""
    from braintumor import zip_scans

    monkeypatch.setattr(zip_scans, "CHECKED_MEMBERS", 1)
    members = [("a.nii.gz", _member(30)), ("case_seg.nii.gz", _member(20, labels=True)), ("x.nii.gz", _marked_map(20)),
               ("b.nii.gz", _member(31))]
    volumes = read_volumes(zip_bytes(members), name="scans.zip", max_slices=70, per_input=True)
    assert [(len(v.slices), bool(v.error)) for v in volumes] == [(30, False), (0, True), (0, True), (31, False)]
    assert "segmentation map" in volumes[1].error and "intent_code 1002" in volumes[2].error
    checked.clear()
    members[1] = ("plain.nii.gz", members[1][1])
    with pytest.raises(BudgetError, match=r"^the zip holds more than 70 slices \(at b.nii.gz\); the limit is 70 "
                                          r"per input, 2 of the zip's 4 NIfTI members counted by their headers alone"):
        read_volumes(zip_bytes(members), name="scans.zip", max_slices=70, per_input=True)
    assert [name for name in checked if not name.startswith("head:")] == ["scans.zip:a.nii.gz", "scans.zip:x.nii.gz"]
    # plain.nii.gz, a map unnamed and unmarked, took the 20 slices of its header


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("order", ["<", ">"])
def test_intent_code_is_read_from_a_headers_bytes(gz, order):
    import nibabel as nib

    from braintumor.nifti_header import intent_code

    for cls in (nib.Nifti1Image, nib.Nifti2Image):
        header = cls.header_class(endianness=order)
        header.set_intent("label")
        data = cls(np.zeros((4, 4, 4), np.int16), np.eye(4), header).to_bytes()
        assert intent_code(gzip.compress(data) if gz else data) == 1002
        assert intent_code(_member(2, gz=gz)) == 0
    assert intent_code(b"x" * 600) == intent_code(b"\x1f\x8b broken") == 0


def test_a_folders_nifti_files_past_the_budget_are_refused_before_any_is_decoded(decoded, tmp_path, monkeypatch):
    """read_volumes(folder, per_input=True) decoded its NIfTI files in turn, each whole (two of 30 slices, after its
    DICOM series' 10), before the one past the budget was refused by its header: they are checked as a zip's members
    are, on their headers first, with what its series took; a segmentation map among them still takes nothing."""
    from dicom_factory import series

    from braintumor import zip_scans

    for name, data in series([np.full((40, 40), 20 * k, np.uint8) for k in range(10)]):
        (tmp_path / name).write_bytes(data)
    for name, slices in (("a.nii.gz", 30), ("b.nii.gz", 30), ("c.nii.gz", 20)):
        (tmp_path / name).write_bytes(_member(slices))
    with pytest.raises(BudgetError) as caught:
        read_volumes(tmp_path, max_slices=70, per_input=True)
    assert decoded == []  # a and b were decoded before c was refused
    assert str(caught.value) == "the folder holds more than 70 slices (at c.nii.gz); the limit is 70 per input"
    (tmp_path / "c.nii.gz").unlink()
    (tmp_path / "a_seg.nii.gz").write_bytes(_member(20, labels=True))
    volumes = read_volumes(tmp_path, max_slices=70, per_input=True)  # 10 + 30 + 30, the map an error of its own
    assert [(v.kind, len(v.slices), bool(v.error)) for v in volumes] == [
        ("dicom", 10, False), ("nifti", 30, False), ("nifti", 0, True), ("nifti", 30, False)]
    decoded.clear()
    monkeypatch.setattr(zip_scans, "CHECKED_MEMBERS", 1)  # past it, files are counted by their headers, and said
    for name in ("a_seg.nii.gz", "a.nii.gz", "b.nii.gz"):
        (tmp_path / name).unlink()
    for k in range(4):
        (tmp_path / f"m{k}.nii.gz").write_bytes(_member(20))
    with pytest.raises(BudgetError, match=r"^the folder holds more than 65 slices \(at m2.nii.gz\); the limit is 65 "
                                          r"per input, 2 of the folder's 4 NIfTI files counted by their headers alone "
                                          r"\(past its first 1, only files named or marked as label maps are read to "
                                          r"find one, as a map takes nothing\): send them in several folders$"):
        read_volumes(tmp_path, max_slices=65, per_input=True)
    assert decoded == []
