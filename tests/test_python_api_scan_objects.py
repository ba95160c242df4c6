"""A scan a notebook already holds as its reader's object (``pydicom.dcmread``'s Dataset, ``nibabel.load``'s image):
read_volumes reads it as the file it came from, and the calls that take images say to use it."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from conftest import synthetic_head
from dicom_factory import SECRETS, axial_volume, make_dataset, make_dicom, nifti_bytes, series

from braintumor import ImageError
from braintumor.volume_io import iter_volumes, read_volumes

HEAD = synthetic_head(160, canvas=(192, 192), offset=(16, 16))


def test_read_volumes_reads_a_pydicom_dataset_as_its_file(tmp_path):
    import pydicom

    data = make_dicom(HEAD)
    (tmp_path / "IM1.dcm").write_bytes(data)
    from_file = pydicom.dcmread(tmp_path / "IM1.dcm")
    assert read_volumes(from_file) == read_volumes(tmp_path / "IM1.dcm")  # its name too: where it was read from
    in_memory = pydicom.dcmread(io.BytesIO(data))
    (volume,) = read_volumes(in_memory, name="slice 1")
    assert volume == read_volumes(data, name="slice 1")[0] and volume.kind == "dicom"
    assert not any(secret in repr(volume) for secret in SECRETS)
    assert list(iter_volumes(in_memory)) == read_volumes(data)


def test_a_dataset_built_without_a_transfer_syntax_is_told_what_it_needs():
    ds = make_dataset(HEAD)
    del ds.file_meta
    with pytest.raises(ImageError, match=r"^pydicom cannot write this Dataset as a DICOM file: give it a transfer "
                                         r"syntax \(ds\.file_meta\.TransferSyntaxUID\), or read the file it came "
                                         r"from$"):  # said "(ValueError)" before its advice
        read_volumes(ds)


def test_read_volumes_reads_a_nibabel_image_as_its_file(tmp_path):
    import nibabel as nib

    volume = axial_volume([HEAD] * 4).astype(np.int16)
    image = nib.Nifti1Image(volume, np.diag([0.9, 0.9, 5.0, 1.0]))
    assert read_volumes(image) == read_volumes(image.to_bytes())
    assert read_volumes(nib.Nifti2Image(volume, np.eye(4))) == read_volumes(nifti_bytes(volume, np.eye(4)))
    (tmp_path / "t1.nii.gz").write_bytes(nifti_bytes(volume))
    loaded = nib.load(tmp_path / "t1.nii.gz")
    assert read_volumes(loaded) == read_volumes(tmp_path / "t1.nii.gz")  # its name: the file it was loaded from
    assert loaded.get_filename() == str(tmp_path / "t1.nii.gz")  # left as it was (to_bytes() forgot it)
    pair = nib.Nifti1Pair(volume, np.eye(4))
    with pytest.raises(ImageError, match=r"^a nibabel Nifti1Pair is no NIfTI file: nibabel\.Nifti1Image\.from_image"):
        read_volumes(pair)
    assert read_volumes(nib.Nifti1Image.from_image(pair)) == read_volumes(nifti_bytes(volume, np.eye(4)))


def test_predict_explain_and_predict_many_say_that_read_volumes_reads_a_scans_object():
    """predict told a Dataset "np.asarray(x) makes a numpy array of it" (an empty object array, then refused by its
    shape) and a nibabel image nothing; predict_many iterated a Dataset's data elements ("item 0 ... not
    DataElement") and let nibabel's "Cannot slice image objects" through."""
    import nibabel as nib
    import pydicom

    from braintumor import Classifier
    from braintumor.heatmap import explain

    clf = Classifier.load()
    objects = {"a pydicom Dataset": pydicom.dcmread(io.BytesIO(make_dicom(HEAD))),
               "a nibabel Nifti1Image": nib.Nifti1Image(axial_volume([HEAD] * 3).astype(np.int16), np.eye(4))}
    for kind, scan in objects.items():
        said = (f"{kind} holds a scan: braintumor.volume_io.read_volumes reads it into volumes, whose .slices "
                "predict and predict_many take")
        for call in (clf.predict, lambda x: explain(clf, x), lambda x: list(clf.predict_many([x]))):
            with pytest.raises(TypeError, match=f"not {type(scan).__name__}: {said}$") as raised:
                call(scan)
            assert "np.asarray" not in str(raised.value)
        with pytest.raises(TypeError, match=f"^predict_many takes an iterable of images: {said}$"):
            clf.predict_many(scan)
        (volume,) = read_volumes(scan)  # and the call said reads it
        assert [clf.predict(s) for s in volume.slices] == [o for _, o in clf.predict_many(volume.slices)]


def test_read_volumes_reads_a_list_of_a_series_datasets_as_their_folder(tmp_path):
    """``[pydicom.dcmread(f) for f in files]`` is how a notebook holds a series: read_volumes said "not list"."""
    import pydicom

    files = series([HEAD, HEAD[::-1], HEAD[:, ::-1]])  # stored out of order: read in anatomical order
    for name, data in files:
        (tmp_path / name).write_bytes(data)
    datasets = [pydicom.dcmread(tmp_path / name) for name, _ in files]
    (from_folder,) = read_volumes(tmp_path)
    (from_list,) = read_volumes(datasets, name=str(tmp_path))
    assert from_list == from_folder and len(from_list.slices) == 3
    assert read_volumes(tuple(datasets), name=str(tmp_path)) == [from_folder]
    in_memory = [pydicom.dcmread(io.BytesIO(data)) for _, data in files]  # named by their place in the list
    assert [s.pixels.tobytes() for s in read_volumes(in_memory)[0].slices] == \
        [s.pixels.tobytes() for s in from_folder.slices]
    with pytest.raises(TypeError, match="not list"):  # a list of anything else is still no scan
        read_volumes([datasets[0], b"x"])


def test_a_reader_library_half_imported_by_another_thread_is_no_error(monkeypatch):
    """The web server's first two DICOM uploads, answered in two threads at once (the page sends files in parallel):
    one thread's ``import pydicom`` had put the package in sys.modules before its ``dataset`` submodule was set on it,
    and the other's check of its upload (is it a Dataset?) raised AttributeError, an HTTP 500 for that upload. A
    class not yet defined has no instance: bytes are no scan object while either library is half imported."""
    import types

    from braintumor.scan_objects import scan_object, scan_object_bytes

    for half in ("pydicom", "pydicom.dataset", "nibabel", "nibabel.spatialimages"):
        monkeypatch.setitem(sys.modules, half, types.ModuleType(half))
    assert scan_object(b"DICM") is None and scan_object_bytes(b"DICM") is None
