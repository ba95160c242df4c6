"""Medical scans that are not brain MRI, as a hospital sends them by mistake: a DICOM whose SOP class names another
modality (CT, PET, X-ray, ...) without a Modality element, and NIfTI label or segmentation maps. Each is refused
with a reason that says what it is; a real MRI, without its Modality too, is still read and answered."""

from __future__ import annotations

import json
import re

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


def test_a_secondary_capture_in_hounsfield_units_without_modality_is_ct(gray):
    """A Secondary Capture (or unregistered SOP class) without Modality, whose Rescale Type says its values are
    Hounsfield units, is a CT slice: it was read as one of unknown modality, and so classified as MRI."""
    from pydicom.uid import SecondaryCaptureImageStorage

    ds = make_dataset(gray, sop_class=SecondaryCaptureImageStorage, RescaleType="HU", RescaleIntercept=-1024,
                      RescaleSlope=1)
    del ds.Modality
    (volume,) = read_volumes(to_bytes(ds), name="scan.dcm")
    assert volume.slices[0].meta["dicom"]["modality"] == "CT"
    ds.RescaleType = "US"  # unspecified: nothing to go on, read as before
    (volume,) = read_volumes(to_bytes(ds), name="scan.dcm")
    assert "modality" not in volume.slices[0].meta["dicom"]


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
    assert ct["reason"].endswith(": CT image (DICOM SOP class CT Image Storage); the model reads MRI only")
    assert not mr["ood"] and mr["label"] == "glioma" and "modality" not in mr["dicom"]


_LABELS = (r"^NIfTI voxels hold only {n} distinct whole numbers, 0 to {top}: a label or segmentation map, not an "
           r"image; the model reads MRI only$")


def _labelled(side: int = 96, slices: int = 8) -> np.ndarray:
    """A tumour segmentation as BraTS numbers it: 0 background, 2 oedema around 1 (necrosis) around 4 (enhancing)."""
    yy, xx = np.mgrid[:side, :side]
    r = np.hypot(yy - side * 0.45, xx - side * 0.55)
    plane = np.select([r < 8, r < 14, r < 24], [4, 1, 2], 0).astype(np.uint8)
    return np.stack([plane] * slices, axis=-1)


def test_a_label_map_is_refused_as_one():
    """A tumour's labels, a brain mask stored as float (0.0, 1.0) or as 0 and 255, and labels stored scaled: each
    was cut into slices and classified (refused at best as 'far from every training slice', with no word of why)."""
    import nibabel as nib

    from braintumor.image_io import ImageError

    labels = _labelled()
    mask = (labels > 0).astype(np.float32)
    scaled = nib.Nifti1Image(labels.astype(np.int16) * 10, np.eye(4))
    scaled.header.set_slope_inter(0.1, 0.0)
    for image, n, top in ((nib.Nifti1Image(labels, np.eye(4)), 4, 4), (nib.Nifti1Image(mask, np.eye(4)), 2, 1),
                          (nib.Nifti1Image((mask * 255).astype(np.uint8), np.eye(4)), 2, 255), (scaled, 4, 4)):
        with pytest.raises(ImageError, match=_LABELS.format(n=n, top=top)):
            read_volumes(image.to_bytes(), name="seg.nii")


def test_nibabels_mask_volume_is_refused_as_a_label_map():
    """nibabel's standard.nii.gz holds 0 and 255 only: a mask, refused as one (it was cut into 7 slices)."""
    from dicom_factory import nibabel_file

    from braintumor.image_io import ImageError

    path = nibabel_file("standard.nii.gz")
    if path is None:
        pytest.skip("nibabel's standard.nii.gz is not installed")
    with pytest.raises(ImageError, match=_LABELS.format(n=2, top=255)):
        read_volumes(path)


def test_images_of_few_values_are_not_taken_for_label_maps(stack):
    """Not label maps: MRI slices made a volume (also scaled to 0-1 floats, as pipelines normalise them), a
    probability map (floats), 17 levels changing from voxel to voxel, and a few values not numbered from 0 or far
    apart (a blank volume with a bright voxel: the reader tests' own volumes)."""
    import nibabel as nib

    volume = np.stack(stack, axis=-1)
    yy, xx = np.mgrid[:96, :96]
    blob = np.exp(-((yy - 40.0) ** 2 + (xx - 50.0) ** 2) / 400.0)[..., None] * np.ones(4)
    marked = np.zeros((64, 64, 4), np.int16)
    marked[3, 5, 1] = 1000
    for data in (volume, (volume / 255.0).astype(np.float32), blob.astype(np.float32),
                 np.tile(np.arange(17, dtype=np.uint8), 256).reshape(64, 68, 1), marked,
                 _labelled().astype(np.int16) + 100):
        assert read_volumes(nib.Nifti1Image(data, np.eye(4)).to_bytes(), name="scan.nii")[0].slices


def test_a_volume_whose_header_says_label_is_refused_whatever_its_count_of_labels():
    """intent_code 1002 (NIFTI_INTENT_LABEL) or 1003 (NIFTI_INTENT_NEURONAME) marks a label map: 17 labels changing
    from voxel to voxel, labels from 100, 3000 labels, one label, were sliced as images (the values alone do not tell
    them). Values that are not whole numbers under such a header are read as before."""
    import nibabel as nib

    from braintumor.image_io import ImageError

    rng = np.random.default_rng(0)
    levels = np.tile(np.arange(17, dtype=np.uint8), 256).reshape(64, 68, 1)
    many = rng.permutation(np.arange(3000, dtype=np.int16)).reshape(50, 60, 1)
    cases = ((levels, "label", 17, "0 to 16"), (_labelled().astype(np.int16) + 100, "neuroname", 4, "100 to 104"),
             (many, "label", 3000, "0 to 2999"), (np.ones((64, 64, 2), np.uint8), "label", 1, "1"))
    for data, intent, n, span in cases:
        image = nib.Nifti1Image(data, np.eye(4))
        assert read_volumes(image.to_bytes(), name="scan.nii")[0].slices  # without the intent: an image
        image.header.set_intent(intent)
        code = {"label": "1002, NIFTI_INTENT_LABEL", "neuroname": "1003, NIFTI_INTENT_NEURONAME"}[intent]
        said = (f"NIfTI header marks its voxels labels (intent_code {code}), and they hold {n} distinct whole "
                f"number{'s' * (n > 1)}, {span}: a label or segmentation map, not an image; the model reads MRI only")
        with pytest.raises(ImageError, match="^" + re.escape(said) + "$"):
            read_volumes(image.to_bytes(), name="seg.nii")
    halves = nib.Nifti1Image(levels.astype(np.float32) + 0.5, np.eye(4))
    halves.header.set_intent("label")
    assert read_volumes(halves.to_bytes(), name="scan.nii")[0].slices


def _parcels(codes: list[int], side: int = 128, slices: int = 6) -> np.ndarray:
    """A parcellation as FreeSurfer numbers one, without a file of it: a head of three rings (white matter, a cortex
    ribbon 4 voxels thick, CSF outside) cut into sectors, each ring's sectors numbered from ``codes``."""
    yy, xx = np.mgrid[:side, :side]
    r, angle = np.hypot(yy - side / 2, xx - side / 2), np.arctan2(yy - side / 2, xx - side / 2)
    sector = ((angle + np.pi) / (2 * np.pi) * 12).astype(int) % 12
    ring = np.select([r < side * 0.3, r < side * 0.3 + 4, r < side * 0.4], [0, 1, 2], 3)
    plane = np.where(ring == 3, 0, np.asarray(codes)[np.minimum(ring * 12 + sector, len(codes) - 1)])
    return np.stack([plane] * slices, axis=-1).astype(np.int16)


def test_a_map_of_many_labels_is_refused_by_its_regions(stack):
    """More than 16 labels (FreeSurfer's aseg, about 40 to 255; aparc+aseg, cortical parcels 1000-1035 and
    2000-2035) were sliced as an image and refused only as unlike MRI. Their regions tell them: constant, where an
    image's levels change from voxel to voxel (the dataset's slices made a volume, quantised to 0-42, still read)."""
    import nibabel as nib

    from braintumor.image_io import ImageError

    aseg = [2, 41, 7, 46, 10, 49, 11, 50, 12, 51, 13, 52, 3, 42, 8, 47, 17, 53, 18, 54, 26, 58, 28, 60, 4, 43, 5, 44,
            14, 15, 24, 31, 63, 77, 85, 255]
    aparc = [2, 41] * 6 + [1000 + k for k in range(1, 13)] + [2000 + k for k in range(24, 36)]
    for codes in (aseg, aparc):
        parcels = _parcels(codes)
        said = (f"NIfTI voxels hold {len(np.unique(parcels))} distinct whole numbers, 0 to {parcels.max()}, in regions "
                "of one value (")
        with pytest.raises(ImageError, match="^" + re.escape(said) + r"\d+% of neighbouring voxels alike; an image's "
                                                                     r"differ\): a label or segmentation map"):
            read_volumes(nib.Nifti1Image(parcels, np.eye(4)).to_bytes(), name="aseg.nii")
    coarse = np.stack(stack, axis=-1) // 6
    assert read_volumes(nib.Nifti1Image(coarse, np.eye(4)).to_bytes(), name="scan.nii")[0].slices


def test_the_dataset_slice_of_most_alike_neighbours_is_no_label_map(data_root):
    """Of the dataset's slices, an upscaled one on a background of 1 has the most neighbouring voxels alike: 81% off 0,
    over the bound; its background is its commonest value, which is left out (67% at most then), not 0."""
    import nibabel as nib

    from braintumor.image_io import read_image

    path = data_root / "Training" / "notumor" / "Tr-no_0147.jpg"
    if not path.exists():
        pytest.skip("the dataset's Tr-no_0147.jpg is not there")
    data = nib.Nifti1Image(read_image(path)[..., None], np.eye(4)).to_bytes()
    assert read_volumes(data, name="scan.nii")[0].slices


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_predict_and_the_api_say_a_label_map_is_one(tmp_path, capsys):
    """The CLI's error record and the web API's, the same words (the shipped model refused each slice as 'far from
    every training slice')."""
    import io

    import nibabel as nib

    from braintumor.predictor import Classifier
    from braintumor.web import create_app

    data = nib.Nifti1Image(_labelled(), np.eye(4)).to_bytes()
    (tmp_path / "seg.nii").write_bytes(data)
    rc = main(["predict", str(tmp_path / "seg.nii"), "--format", "jsonl"])
    (record,) = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    said = _LABELS.format(n=4, top=4)
    assert rc == 1 and re.match(said, record["error"])
    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    answer = client.post("/api/v1/predict", data={"file": (io.BytesIO(data), "seg.nii")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400 and re.match(said, answer.get_json()["results"][0]["error"])


def test_a_ct_series_past_the_slice_limit_is_also_said_to_be_ct(gray):
    """A thin-slice CT series is often longer than the limit: it was told only to be split, and each part's slices
    then refused as CT one by one. The limit's message says what the images are; an MR series' stays as it was."""
    from pydicom.uid import UltrasoundMultiFrameImageStorage, generate_uid

    from braintumor.image_io import ImageError

    def files(**attrs) -> list[tuple[str, bytes]]:
        uid = generate_uid()
        return [(f"IM{k}", to_bytes(make_dataset(gray, series_uid=uid, instance=k + 1, position=5.0 * k, **attrs)))
                for k in range(3)]

    from braintumor.dicom_series import read_dicom_series

    def said(items, **limits) -> str:
        with pytest.raises(ImageError) as caught:
            read_dicom_series("scan", [(n, lambda d=d: d) for n, d in items], **limits)
        return str(caught.value)

    ct = ", and they are CT images (DICOM modality CT): the model reads MRI only"
    assert said(files(Modality="CT"), max_slices=2) == "the DICOM input holds 3 slices; the limit is 2 per input" + ct
    assert said(files(Modality="CT"), max_slices=3, max_pixels=100) == \
        f"the DICOM input would decode to {3 * gray.size:,} pixels; the limit is 100" + ct
    assert said(files(), max_slices=2) == "the DICOM input holds 3 slices; the limit is 2 per input"
    mixed = files(Modality="CT") + files(Modality="PT")
    assert said(mixed, max_slices=2).endswith(", and they are CT and PET images (DICOM modality CT, PT): the model "
                                              "reads MRI only")
    cine = make_dataset(np.stack([gray] * 3), sop_class=UltrasoundMultiFrameImageStorage)
    del cine.Modality
    with pytest.raises(ImageError, match=r"^DICOM file has 3 frames; the limit is 2, and they are ultrasound images "
                                         r"\(DICOM SOP class Ultrasound Multi-frame Image Storage\): the model reads "
                                         r"MRI only$"):
        read_volumes(to_bytes(cine), name="cine.dcm", max_slices=2)


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_a_refusal_says_where_the_modality_was_read(gray):
    """A file with no Modality element, refused as CT by its SOP class or its Hounsfield units, was said to be "CT
    image (DICOM modality CT)": a reader looking for that element found none. The refusal names what it went by, one
    slice's and a series' past the limit alike; a Modality element is still named as one."""
    from pydicom.uid import CTImageStorage, SecondaryCaptureImageStorage, generate_uid
    from pydicom.uid import PositronEmissionTomographyImageStorage as PET

    from braintumor.dicom_series import read_dicom_series
    from braintumor.image_io import ImageError
    from braintumor.predictor import Classifier

    hounsfield = make_dataset(gray, sop_class=SecondaryCaptureImageStorage, RescaleType="HU", RescaleIntercept=-1024,
                              RescaleSlope=1)
    del hounsfield.Modality
    clf = Classifier.load(threads=1)
    for data, said in ((_without_modality(gray, CTImageStorage), "DICOM SOP class CT Image Storage"),
                       (to_bytes(hounsfield), "DICOM Rescale Type HU"),
                       (to_bytes(make_dataset(gray, Modality="CT")), "DICOM modality CT")):
        (volume,) = read_volumes(data, name="scan.dcm")
        assert clf.predict(volume.slices[0]).reason.endswith(f": CT image ({said}); the model reads MRI only")

    def files(sop_class: str, **attrs) -> list[tuple[str, object]]:
        uid, made = generate_uid(), []
        for k in range(2):
            ds = make_dataset(gray, sop_class=sop_class, series_uid=uid, instance=k + 1, position=5.0 * k, **attrs)
            if "Modality" not in attrs:
                del ds.Modality
            data = to_bytes(ds)
            made.append((f"IM{k}", lambda d=data: d))
        return made

    with pytest.raises(ImageError) as caught:
        read_dicom_series("scan", files(CTImageStorage) + files(PET) + files(CTImageStorage, Modality="CT"),
                          max_slices=2)
    assert str(caught.value).endswith(", and they are CT and PET images (DICOM modality CT; SOP class CT Image "
                                      "Storage, Positron Emission Tomography Image Storage): the model reads MRI only")


def test_slices_that_say_their_modality_was_read_elsewhere_are_not_equal(gray):
    """A Slice is compared by value, and where its modality was read is part of it: predict's refusal says "DICOM SOP
    class CT Image Storage" of one and "DICOM modality CT" of the other, yet the two compared equal."""
    import dataclasses
    import pickle

    from pydicom.uid import CTImageStorage

    (volume,) = read_volumes(_without_modality(gray, CTImageStorage), name="scan.dcm")
    read = volume.slices[0]
    assert read.modality_source == ("SOP class", "CT Image Storage")
    assert read != dataclasses.replace(read, modality_source=None)
    assert read == dataclasses.replace(read) == pickle.loads(pickle.dumps(read))


@pytest.mark.parametrize(("keyword", "said"), [
    ("RTStructureSetStorage", "an RT Structure Set Storage object"),
    ("EncapsulatedPDFStorage", "an Encapsulated PDF Storage object"),
    ("XRayRadiationDoseSRStorage", "an X-Ray Radiation Dose SR Storage object"),
    ("SegmentationStorage", "a Segmentation Storage object"),
    ("BasicTextSRStorage", "a Basic Text SR Storage object")])
def test_a_non_image_object_is_named_with_its_article(keyword, said):
    """A report, structure set or PDF sent as a scan is named by its class: 'a RT Structure Set Storage object' and
    'a Encapsulated PDF Storage object' read wrong."""
    import pydicom.uid

    from braintumor.image_io import ImageError

    with pytest.raises(ImageError, match=rf"^DICOM file is {re.escape(said)}, not an image: nothing to classify$"):
        read_volumes(to_bytes(make_dataset(None, sop_class=getattr(pydicom.uid, keyword))), name="x.dcm")
