"""Files a folder's walk listed as regular files that are a pipe or a device by the time they are read, and devices
named as inputs. A listed scan.jpg replaced by a FIFO held the read 30 s (the wait a pipe the user names gets, for
its writer), then said "nothing was written to this pipe"; ``/dev/zero`` was read to 64 MiB and called "larger than
the limit". Both are refused by the opened file's fstat, without reading or waiting; a regular file reads as before.
PIPE_WAIT_S is lowered, so that unfixed code fails on its words at once, not by a 30 s wait."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from conftest import encode, synthetic_head

from braintumor import file_reads
from braintumor.batch_predict import plan_units
from braintumor.batch_workers import score_unit
from braintumor.folder_scans import scan_folder
from braintumor.image_io import ImageError, expand_inputs, read_image
from braintumor.input_plan import plan_inputs
from braintumor.model_files import default_model_path
from braintumor.volume_io import read_path, read_volumes

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
REPLACED = ("cannot read file: it is a named pipe (FIFO), not a file (it was one when its folder was listed: "
            "replaced since?)")
MODEL = default_model_path()


@pytest.fixture(autouse=True)
def _short_wait(monkeypatch):
    monkeypatch.setattr(file_reads, "PIPE_WAIT_S", 0.2)


def _replace_by_pipe(path: Path) -> None:
    os.remove(path)
    os.mkfifo(path)


def test_a_listed_image_replaced_by_a_pipe_is_refused_without_waiting(tmp_path):
    (tmp_path / "g0.png").write_bytes(encode(synthetic_head(200)))
    (tmp_path / "g1.png").write_bytes(encode(synthetic_head(200)))
    listed = list(expand_inputs([tmp_path]))
    _replace_by_pipe(listed[0])
    with pytest.raises(ImageError) as caught:
        read_image(listed[0])
    assert str(caught.value) == REPLACED
    assert read_image(listed[1]).shape == (200, 200)  # a regular file reads as before


def test_a_pipe_named_by_the_user_is_still_waited_on(tmp_path):
    """The same pipe named (not listed) is waited on for its writer (``<(zcat scan.png.gz)``, docs/CLI.md)."""
    os.mkfifo(tmp_path / "scan.png")
    with pytest.raises(ImageError, match=r"nothing was written to this pipe in 0\.2 s"):
        read_image(tmp_path / "scan.png")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
def test_a_device_named_as_an_input_is_refused_as_a_device(tmp_path):
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    for name in ("/dev/zero", tmp_path / "zero.png"):
        with pytest.raises(ImageError) as caught:
            read_image(name)
        assert str(caught.value) == "cannot read file: it is a character device, not a file"


def test_a_listed_scan_replaced_by_a_pipe_is_refused_without_waiting(tmp_path):
    """A folder's DICOM files (read as its series) and NIfTI files, listed, then replaced."""
    (tmp_path / "IM0001.dcm").write_bytes(b"x" * 400)
    (tmp_path / "head.nii").write_bytes(b"x" * 400)
    dicoms, niftis = scan_folder(tmp_path)
    for path in dicoms + niftis:
        _replace_by_pipe(path)
    with pytest.raises(ImageError) as caught:
        read_path(dicoms[0])
    assert str(caught.value) == REPLACED
    with pytest.raises(ImageError) as caught:
        read_volumes(niftis[0])
    assert str(caught.value) == REPLACED


@pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
def test_predict_refuses_a_listed_image_replaced_by_a_pipe_alone_and_at_once(tmp_path):
    """``braintumor predict DIR``'s plan, then its records: in one process, and a --workers unit sent to another
    (pickled); the other image is answered."""
    from braintumor.predictor import Classifier
    from braintumor.series import input_records

    for name in ("g0.png", "g1.png"):
        (tmp_path / name).write_bytes(encode(synthetic_head(200)))
    planned = list(plan_inputs([str(tmp_path)]))
    units = list(plan_units([str(tmp_path)], 8))
    _replace_by_pipe(tmp_path / "g0.png")
    clf = Classifier.load(MODEL)
    for recs in (list(input_records(clf, planned)), score_unit(clf, pickle.loads(pickle.dumps(units[0])), 8,
                                                               False, False)):
        assert recs[0] == {"path": str(tmp_path / "g0.png"), "error": REPLACED}
        assert "error" not in recs[1]
