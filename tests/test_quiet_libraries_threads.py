"""The DICOM and NIfTI readers keep pydicom's and nibabel's warnings off stderr on the reading thread only, and leave
the process's warning filters as they were: they used ``warnings.catch_warnings``, which swaps the one list of filters
every thread shares (until Python 3.14), so while the server's request threads read, another thread's pydicom or
nibabel warnings were dropped, two reads at once could leave them ignored for good, and each read made Python forget
which warnings it had already shown (see braintumor.quiet_libraries)."""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from conftest import extra_reason
from dicom_factory import make_dataset, make_dicom, nifti_bytes, to_bytes
from pydicom.dataset import Dataset

from braintumor import dicom_frames, dicom_io
from braintumor.quiet_libraries import quiet_this_thread
from braintumor.volume_io import read_volumes

_GRAY = np.tile(np.arange(64, dtype=np.uint16) * 16, (64, 1))
_VOXELS = np.random.default_rng(0).integers(0, 1000, (40, 48, 3)).astype(np.int16)


def _library_warns(module: str, text: str) -> None:
    """A warning as the library's module raises it (the module is what the filters look at)."""
    warnings.warn_explicit(text, UserWarning, module.replace(".", "/") + ".py", 1, module=module, registry={})


def _made(build: Callable[[], Any], read: Callable[[Any], object]) -> Callable[[], Callable[[], object]]:
    """What makes a read of what ``build`` makes (built before the library call is held, on the test's thread)."""
    def made() -> Callable[[], object]:
        built = build()
        return lambda: read(built)
    return made


def _dataset() -> Dataset:
    return make_dataset(_GRAY, WindowCenter=512, WindowWidth=1024)


def _nifti() -> bytes:
    return nifti_bytes(_VOXELS, gz=False)


def _nifti_read(data: bytes) -> object:
    return read_volumes(data, name="x.nii")


#: Each place a reader silences a library: (what holds the library call inside it, that call, the library module
#: whose warning it silences, what makes the read).
SITES = {
    "dicom header": (lambda: dicom_io, "read_partial", "pydicom.filereader",
                     _made(lambda: make_dicom(_GRAY), dicom_io.read_dataset)),
    "dicom values checked": (lambda: Dataset, "__getitem__", "pydicom.charset",
                             _made(_dataset, dicom_frames.drop_unreadable)),
    "dicom meta": (lambda: dicom_frames, "header_number", "pydicom.charset",
                   _made(_dataset, lambda ds: dicom_frames.safe_meta(ds, ds, 0, 1))),
    "dicom pixels decoded": (lambda: Dataset, "pixel_array_options", "pydicom.pixels.decoders.base",
                             _made(_dataset, lambda ds: dicom_io.frame_slice(ds, 0, 1))),
    "dicom gray levels": (lambda: dicom_io, "_display_range", "pydicom.pixels.processing",
                          _made(_dataset, lambda ds: dicom_io.frame_to_uint8(_GRAY, ds))),
    "nifti header": (lambda: nib.Nifti1Header, "check_fix", "nibabel.nifti1", _made(_nifti, _nifti_read)),
    "nifti loaded": (lambda: nib.Nifti1Image, "from_stream", "nibabel.nifti1", _made(_nifti, _nifti_read)),
    "nifti voxels": (lambda: nib, "as_closest_canonical", "nibabel.funcs", _made(_nifti, _nifti_read)),
}


class _Gate:
    """Wraps a library call a reader makes while it silences that library: a reader thread started here is held in
    it (once) until released, after warning as the library would; meanwhile the test does what another thread would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str, module: str) -> None:
        self.waiting: dict[int, tuple[threading.Event, threading.Event]] = {}
        self.errors: list[BaseException] = []
        original = getattr(owner, name)

        def held(*args, **kwargs):
            events = self.waiting.pop(threading.get_ident(), None)
            if events is not None:
                _library_warns(module, "on the reading thread")
                events[0].set()
                events[1].wait(10)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, held)

    def start(self, read: Callable[[], object]) -> tuple[threading.Thread, threading.Event]:
        """``read`` on a thread of its own, returned once it is held inside, with what releases it."""
        inside, release = threading.Event(), threading.Event()

        def run() -> None:
            self.waiting[threading.get_ident()] = (inside, release)
            try:
                read()
            except BaseException as exc:  # reported by the test, not lost on the thread
                self.errors.append(exc)
                inside.set()

        thread = threading.Thread(target=run)
        thread.start()
        assert inside.wait(10) and not self.errors, self.errors
        return thread, release


@contextlib.contextmanager
def _recording(site: str, monkeypatch):
    """(the site's read, its gate, the warnings recorded, the library's module name), every warning recorded inside."""
    owner, name, module, make_read = SITES[site]
    read = make_read()
    gate = _Gate(monkeypatch, owner(), name, module)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield read, gate, seen, module


@pytest.mark.parametrize("site", SITES)
def test_only_the_reading_threads_library_warnings_are_dropped(site, monkeypatch):
    with _recording(site, monkeypatch) as (read, gate, seen, module):
        reader, release = gate.start(read)
        _library_warns(module, "on another thread, meanwhile")  # was dropped: the reader's filter was every thread's
        release.set()
        reader.join(10)
    assert not gate.errors
    assert [str(w.message) for w in seen] == ["on another thread, meanwhile"]


@pytest.mark.parametrize("site", ["dicom header", "dicom pixels decoded", "nifti header", "nifti voxels"])
def test_two_threads_reading_at_once_leave_the_callers_filters_as_they_were(site, monkeypatch):
    """A enters, B enters, A leaves, B leaves: B restored the list it found, A's filter in it, for good."""
    with _recording(site, monkeypatch) as (read, gate, seen, module):
        read()  # the readers' own filters go in once
        filters = list(warnings.filters)
        first, release_first = gate.start(read)
        second, release_second = gate.start(read)
        release_first.set()
        first.join(10)
        release_second.set()
        second.join(10)
        assert warnings.filters == filters
        _library_warns(module, "after both")
    assert not gate.errors
    assert [str(w.message) for w in seen] == ["after both"]


@pytest.mark.parametrize("name", ["x.dcm", "x.nii"])
def test_a_read_does_not_bring_back_the_callers_warnings_already_shown(name):
    """Each swap of the filter list made Python forget what it had shown: the caller's warning of one place, shown
    once by default, came back after every scan."""
    data = make_dicom(_GRAY) if name == "x.dcm" else nifti_bytes(_VOXELS, gz=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        read_volumes(data, name=name)
        for _ in range(3):
            warnings.warn("the caller's", UserWarning, stacklevel=1)
            read_volumes(data, name=name)
    assert [str(w.message) for w in seen] == ["the caller's"]


def _implicit_under_explicit_meta() -> bytes:
    """A file whose meta says explicit VR and whose dataset is written implicit: pydicom reads it, and warns."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset, write_file_meta_info

    ds = make_dataset(_GRAY)
    body, meta = DicomBytesIO(), DicomBytesIO()
    body.is_little_endian = meta.is_little_endian = True
    body.is_implicit_VR, meta.is_implicit_VR = True, False
    write_dataset(body, ds)
    write_file_meta_info(meta, ds.file_meta)
    return bytes(128) + b"DICM" + meta.getvalue() + body.getvalue()


def _padded() -> bytes:
    ds = make_dataset(_GRAY)
    ds.PixelData += bytes(100)
    return to_bytes(ds)


def _voi_lut_on_rescaled_values() -> bytes:
    from pydicom.sequence import Sequence

    ds = make_dataset(_GRAY, RescaleSlope=0.5, RescaleIntercept=0)
    lut = Dataset()
    lut.LUTDescriptor = [1024, 0, 16]
    lut.add_new("LUTData", "US", list(range(0, 65536, 64)))
    ds.VOILUTSequence = Sequence([lut])
    return to_bytes(ds)


@pytest.mark.parametrize("make", [
    _implicit_under_explicit_meta,  # "Expected explicit VR, but found implicit VR - using implicit VR for reading"
    _padded,  # "The pixel data is 8292 bytes long, which indicates it contains 100 bytes of excess padding ..."
    _voi_lut_on_rescaled_values,  # "Applying a VOI LUT on a float input array may give incorrect results"
])
def test_pydicoms_warnings_on_an_odd_file_stay_off_stderr(make):
    """Each reads as it did, without pydicom's warning and its source line between the results' lines (as a stray
    escape byte's, in test_dicom_io): what each reader silences, moved off catch_warnings, is silenced still."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        (volume,) = read_volumes(make(), name="x.dcm")
    assert len(volume.slices) == 1 and [str(w.message) for w in seen] == []


def test_an_export_drops_its_own_warnings_and_no_other_threads(tmp_path, monkeypatch):
    """`braintumor export` wrapped torch's exporter in catch_warnings with every warning ignored: meanwhile the other
    threads' warnings were dropped too (a caller's, a server's). Its own are dropped still, whatever module they name
    (torch's pytree warns as ``copyreg``), and the caller's filter list is left as it was."""
    torch = pytest.importorskip("torch", reason=extra_reason("torch"))
    from braintumor import export
    from braintumor.model import create_model
    from braintumor.preprocess import PreprocessConfig

    meta = {"classes": ["glioma", "meningioma", "notumor", "pituitary"], "model_name": "tumornet-xs",
            "preprocess": {**PreprocessConfig().to_dict(), "image_size": 32}, "data_fingerprint": "-",
            "num_parameters": 1}
    torch.save({"model": create_model("tumornet-xs", 4).state_dict(), "meta": meta}, tmp_path / "best.pt")

    class Stop(Exception):
        pass

    def exporter(*args, **kwargs):
        _library_warns("copyreg", "the exporter's")
        _library_warns("torch.onnx._internal", "the exporter's")
        other = threading.Thread(target=_library_warns, args=("copyreg", "on another thread, meanwhile"))
        other.start()
        other.join(10)
        raise Stop  # the exporter's work is not what is tested

    monkeypatch.setattr(torch.onnx, "export", exporter)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        torch.export.Dim("batch", min=1, max=2)  # imports sympy, which puts a filter of its own in front once
        with quiet_this_thread():  # then the two thread-aware filters go in front, once
            pass
        filters = list(warnings.filters)
        with pytest.raises(Stop):
            export.export_onnx(tmp_path, tmp_path / "m.onnx", calibrate=False)
        assert warnings.filters == filters
        _library_warns("copyreg", "after")
    assert [str(w.message) for w in seen] == ["on another thread, meanwhile", "after"]
