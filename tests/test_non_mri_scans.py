"""Medical scans that are not brain MRI, as a hospital sends them by mistake: a DICOM whose SOP class names another
modality (CT, PET, X-ray, ...) without a Modality element, and NIfTI label or segmentation maps. Each is refused
with a reason that says what it is; a real MRI, without its Modality too, is still read and answered."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dicom_factory import make_dataset, to_bytes

from braintumor.cli import main
from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.volume_io import read_volumes

#: Image storage SOP classes whose IOD requires one Modality, and that Modality (PS3.3).
_SOP_CLASSES = {"CTImageStorage": "CT", "EnhancedCTImageStorage": "CT",
                "PositronEmissionTomographyImageStorage": "PT", "ComputedRadiographyImageStorage": "CR",
                "DigitalXRayImageStorageForPresentation": "DX", "UltrasoundImageStorage": "US",
                "DigitalMammographyXRayImageStorageForPresentation": "MG", "NuclearMedicineImageStorage": "NM",
                "DigitalIntraOralXRayImageStorageForPresentation": "IO", "XRayAngiographicImageStorage": "XA"}


def _without_modality(pixels: np.ndarray, sop_class: str | None = None) -> bytes:
    ds = make_dataset(pixels, **({"sop_class": sop_class} if sop_class else {}))
    del ds.Modality
    return to_bytes(ds)


@pytest.mark.parametrize(("keyword", "code"), sorted(_SOP_CLASSES.items()))
def test_a_dicom_without_modality_takes_the_one_its_sop_class_requires(gray, keyword, code):
    """A CT Image Storage file without its Modality element (a stripped or hand-made export) was classified as MRI:
    the SOP class says what it is, as the Modality would have."""
    import pydicom.uid

    (volume,) = read_volumes(_without_modality(gray, getattr(pydicom.uid, keyword)), name="scan.dcm")
    assert volume.slices[0].meta["dicom"]["modality"] == code


def test_an_mr_or_secondary_capture_without_modality_is_read_without_one(gray):
    """MR Image Storage and Secondary Capture (which may hold an MRI slice) name no other modality: read as before."""
    from pydicom.uid import SecondaryCaptureImageStorage

    for sop in (None, SecondaryCaptureImageStorage):
        (volume,) = read_volumes(_without_modality(gray, sop), name="scan.dcm")
        assert "modality" not in volume.slices[0].meta["dicom"]
    stated = make_dataset(gray, sop_class="1.2.840.10008.5.1.4.1.1.2", Modality="MR")  # the element, where present,
    (volume,) = read_volumes(to_bytes(stated), name="scan.dcm")  # is what the file says it is
    assert volume.slices[0].meta["dicom"]["modality"] == "MR"


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_predict_refuses_a_ct_dicom_without_modality_and_still_answers_mr(test_images, tmp_path, capsys):
    """The shipped model through the CLI: the CT slice, a real MRI slice filed as CT Image Storage without a
    Modality, was answered 'glioma'; refused now as CT. The same slice as MR Image Storage without a Modality is
    still answered."""
    from pydicom.uid import CTImageStorage

    gray = read_image(test_images["glioma"][0])
    (tmp_path / "ct.dcm").write_bytes(_without_modality(gray, CTImageStorage))
    (tmp_path / "mr.dcm").write_bytes(_without_modality(gray))
    rc = main(["predict", str(tmp_path / "ct.dcm"), str(tmp_path / "mr.dcm"), "--format", "jsonl"])
    ct, mr = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert rc == 0 and ct["ood"] and ct["label"] is None and ct["dicom"]["modality"] == "CT"
    assert ct["reason"].endswith(": CT image (DICOM modality CT); the model reads MRI only")
    assert not mr["ood"] and mr["label"] == "glioma" and "modality" not in mr["dicom"]
