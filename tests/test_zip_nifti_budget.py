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
    from braintumor import zip_scans

    heads: list[str] = []
    real = zip_scans._header_takes
    monkeypatch.setattr(zip_scans, "_header_takes", lambda m, load: heads.append(m.filename) or real(m, load))
    members = [(f"m{i}.nii.gz", _member(2)) for i in range(40)]
    with pytest.raises(BudgetError, match=r"^the zip holds more than 20 slices \(at m10.nii.gz\)"):
        read_volumes(zip_bytes(members), name="scans.zip", max_slices=20, per_input=True)
    assert len(heads) == 11  # all 40 were read
