"""Real test slices made into NIfTI volumes and DICOM series the way converters and scanners write them come back
upright, pixel for pixel, and get the JPEG's label from both shipped models, never the orientation check's "rotate it
upright" (a reader that turned or mirrored a slice would show here as a wrong pixel, a refusal or a wrong label).

Every file is built by where each voxel lies in the patient (tests/scan_geometry.py), never by copying the readers'
flips: the anatomy is upright slices placed as the conventional view places them (axial: anterior at the top, the
patient's right on the viewer's left; coronal: superior at the top, right on the left; sagittal: superior at the top,
the face on the left), and a file is a grid of samples whose positions its header gives.

NIfTI (RAS+ world: +x the patient's right, +y anterior, +z superior; a storage "LAS" means voxel index i grows to
the patient's left, j anterior, k superior):

- dcm2niix of an axial series (IOP [1,0,0, 0,1,0]): along a row (the column index) DICOM steps +x of LPS (the
  patient's left), down a column (the row index) +y of LPS (posterior); dcm2niix stores i = column index, j = row
  index, then flips j so that it runs anterior (its default): LAS, k along the normal row x column = +z (superior).
  Unflipped (ITK's voxel order): LPS.
- FSL's radiological storage is LAS as well, with a negative determinant (qform's qfac -1); written here with both
  forms, the qform alone and an aligned sform alone. RAS+ is the neurological storage (and nibabel's canonical).
- A volume stored with its axes permuted: (y, x, z) as ALS or PRS; numpy's (z, y, x) of an ITK (LPS) image, with the
  affine permuted to match, as SPL; FreeSurfer's conformed LIA; stored upside down (RPI, LAI).
- dcm2niix of a coronal series (IOP [1,0,0, 0,0,-1]): columns to the left (L), rows to inferior, flipped to
  superior (S), slices along the normal (1,0,0) x (0,0,-1) = (0,1,0) in LPS, posterior (P): LSP. Of a sagittal one
  (IOP [0,1,0, 0,0,-1]): columns posterior (P), rows flipped superior (S), normal (0,1,0) x (0,0,-1) = (-1,0,0) in
  LPS, the patient's right (R): PSR. Thick slices (0.45 x 0.45 x 5 mm) are read in their own plane, and so are a few
  1-mm slices (a slab too thin to cut axially).

DICOM (LPS+ world): Image Orientation (Patient) gives the directions of a row and of a column in the patient, whatever
the patient's position. Axial, head-first supine: [1,0,0, 0,1,0] (rows to the left, columns posterior); head-first
prone turns the patient 180 degrees about z: [-1,0,0, 0,-1,0]; feet-first supine, 180 degrees about y: [-1,0,0,
0,1,0]; feet-first prone, 180 degrees about x: [1,0,0, 0,-1,0]; an in-plane rotation of 90 degrees swaps the rows
and the columns ([0,1,0, 1,0,0], ...). Coronal, head-first supine: [1,0,0, 0,0,-1]; sagittal: [0,1,0, 0,0,-1].
All eight arrangements of each plane's two axes are checked, so every orientation a scanner writes on the axes is.

The one ambiguity: a NIfTI with no orientation at all (qform and sform codes 0) is read as stored radiologically
(LAS, as nibabel and FSL read it); one whose writer meant RAS comes back mirrored, and its note says so.
"""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import make_dataset, to_bytes, zip_bytes
from scan_geometry import Anatomy, dicom_series, nifti_file, tilt_about_x

from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.slice_pixels import robust_uint8
from braintumor.volume_io import read_volumes

#: Upright test slices of each plane (checked by eye: the sagittal ones face the viewer's left), all accepted and
#: classified right by both shipped models.
SLICES = {"axial": ("glioma/Te-gl_0010.jpg", "pituitary/Te-pi_0015.jpg", "meningioma/Te-me_0010.jpg"),
          "coronal": ("glioma/Te-gl_0036.jpg", "meningioma/Te-meTr_0000.jpg", "pituitary/Te-piTr_0001.jpg"),
          "sagittal": ("pituitary/Te-piTr_0003.jpg", "meningioma/Te-me_0024.jpg", "pituitary/Te-piTr_0004.jpg")}
MODELS = ("braintumor-tumornet-s.onnx", "braintumor-tumornet-s-int8.onnx")
X, Y, Z = (1, 0, 0), (0, 1, 0), (0, 0, 1)


def _neg(v: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(-a for a in v)


@pytest.fixture(scope="module")
def models():
    from braintumor import Classifier

    folder = default_model_path().parent
    if not all((folder / m).exists() for m in MODELS):
        pytest.skip("the shipped models are not here")
    return [Classifier.load(folder / m) for m in MODELS]


@pytest.fixture(scope="module")
def anatomy(data_root, models):
    """Per plane: the slices (cropped to 224 x 200, so a transposed slice fails on its shape alone) and each model's
    answer for each JPEG as sent."""
    out = {}
    for plane, names in SLICES.items():
        paths = [data_root / "Testing" / n for n in names]
        stack = np.stack([read_image(p)[:, 12:212] for p in paths]).astype(np.int16)
        answers = [[m.predict(p) for m in models] for p in paths]
        assert all(a.label is not None and a.label == p.parent.name for row, p in zip(answers, paths, strict=True)
                   for a in row), "a reference JPEG is no longer accepted and classified right"
        out[plane] = (stack, answers)
    return out


def assert_upright(volume, plane: str, anatomy, models, mirrored: bool = False) -> None:
    """Each slice is its source slice after the readers' stretch (mirrored only where asked), in order, and gets the
    JPEG's label from each model, not refused."""
    stack, answers = anatomy[plane]
    assert len(volume.slices) == len(stack), volume.notes
    for sl, source, expected in zip(volume.slices, stack, answers, strict=True):
        want = robust_uint8(source.astype(np.float32))
        assert sl.pixels.shape == want.shape
        assert int(np.abs(sl.pixels.astype(int) - (want[:, ::-1] if mirrored else want)).max()) == 0
        for model, jpeg in zip(models, expected, strict=True):
            got = model.predict(sl)
            assert (got.label, got.reason) == (jpeg.label, None)


NIFTI = [  # (plane, storage, pixel mm, slice mm, tilt degrees, file options)
    ("axial", "LAS", 1.0, 1.0, 0.0, {}),  # dcm2niix, FSL radiological
    ("axial", "LPS", 1.0, 1.0, 0.0, {}),  # dcm2niix unflipped, ITK's order
    ("axial", "RAS", 1.0, 1.0, 0.0, {"gz": False}),  # neurological; nibabel's np.eye(4)
    ("axial", "LAS", 1.0, 1.0, 0.0, {"forms": (1, 0)}),  # qform only (qfac -1)
    ("axial", "LAS", 1.0, 1.0, 0.0, {"forms": (0, 2)}),  # an aligned sform only
    ("axial", "LAS", 1.0, 1.0, 0.0, {"forms": (0, 0)}),  # no orientation: read as LAS, said
    ("axial", "ALS", 1.0, 1.0, 0.0, {}),  # stored (y, x, z)
    ("axial", "PRS", 1.0, 1.0, 0.0, {}),
    ("axial", "SPL", 1.0, 1.0, 0.0, {}),  # numpy's (z, y, x) of an ITK image
    ("axial", "LIA", 1.0, 1.0, 0.0, {}),  # FreeSurfer's conformed storage
    ("axial", "RPI", 1.0, 1.0, 0.0, {}),
    ("axial", "LAI", 1.0, 1.0, 0.0, {}),
    ("axial", "LAS", 0.45, 6.0, 0.0, {}),  # thick axial slices
    ("axial", "LAS", 0.9375, 1.2, 0.0, {"gz": False}),
    ("axial", "LAS", 1.0, 1.0, 15.0, {}),  # tilted along the AC-PC line
    ("axial", "LAS", 1.0, 1.0, 0.0, {"frames": 3}),  # 4-D: the first volume
    ("axial", "RAS", 1.0, 1.0, 0.0, {"version": 2}),  # NIfTI-2
    ("coronal", "LSP", 0.45, 5.0, 0.0, {}),  # dcm2niix
    ("coronal", "RSA", 0.45, 5.0, 0.0, {}),
    ("coronal", "SLP", 0.45, 5.0, 0.0, {}),
    ("coronal", "LSP", 1.0, 1.0, 0.0, {}),  # a thin slab of 1-mm slices
    ("coronal", "LSP", 0.45, 5.0, 15.0, {"frames": 2}),
    ("sagittal", "PSR", 0.45, 5.0, 0.0, {}),  # dcm2niix
    ("sagittal", "RAS", 0.45, 5.0, 0.0, {}),
    ("sagittal", "SPR", 0.45, 5.0, 0.0, {"gz": False}),
    ("sagittal", "PSR", 1.0, 1.0, 0.0, {}),
]


@pytest.mark.parametrize(("plane", "codes", "pixel_mm", "slice_mm", "tilt", "options"), NIFTI,
                         ids=[f"{p}-{c}-{a}x{b}-tilt{t:g}-{'-'.join(f'{k}{v}' for k, v in o.items())}"
                              for p, c, a, b, t, o in NIFTI])
def test_a_nifti_as_converters_write_it_comes_back_upright_with_the_jpegs_label(
        plane, codes, pixel_mm, slice_mm, tilt, options, anatomy, models):
    placed = Anatomy(anatomy[plane][0], plane, pixel_mm, slice_mm, tilt_about_x(tilt) if tilt else None)
    data = nifti_file(placed, codes, **options)
    (volume,) = read_volumes(data, name="scan.nii" if options.get("gz") is False else "scan.nii.gz")
    assert_upright(volume, plane, anatomy, models)
    if plane != "axial":
        assert {s.meta["nifti"]["plane"] for s in volume.slices} == {plane}


def test_a_nifti_with_no_orientation_written_neurologically_is_mirrored_and_said(anatomy, models):
    """Codes 0 leave left and right open: read as radiological storage, a RAS-stored volume comes back mirrored (the
    display conventions genuinely differ there), still upright and classified, and the note says so."""
    (volume,) = read_volumes(nifti_file(Anatomy(anatomy["axial"][0], "axial", 1.0, 1.0), "RAS", forms=(0, 0)),
                             name="scan.nii.gz")
    assert_upright(volume, "axial", anatomy, models, mirrored=True)
    assert any("left and right may be swapped" in note for note in volume.notes)


DICOM = [(plane, row, col) for plane, (u, w) in (("axial", (X, Y)), ("coronal", (X, Z)), ("sagittal", (Y, Z)))
         for row, col in ((u, w), (_neg(u), w), (u, _neg(w)), (_neg(u), _neg(w)),
                          (w, u), (_neg(w), u), (w, _neg(u)), (_neg(w), _neg(u)))]


@pytest.mark.parametrize(("plane", "row", "col"), DICOM, ids=[f"{p}-{[*r, *c]}" for p, r, c in DICOM])
def test_a_dicom_series_in_any_orientation_on_the_axes_comes_back_upright_with_the_jpegs_label(
        plane, row, col, anatomy, models):
    placed = Anatomy(anatomy[plane][0], plane, 0.5, 5.0)
    (volume,) = read_volumes(zip_bytes(dicom_series(placed, row, col)), name="series.zip")
    assert_upright(volume, plane, anatomy, models)


@pytest.mark.parametrize(("plane", "row", "col", "position"), [
    ("axial", X, Y, "HFS"), ("axial", _neg(X), _neg(Y), "HFP"), ("axial", _neg(X), Y, "FFS"),
    ("axial", X, _neg(Y), "FFP"), ("coronal", X, _neg(Z), "HFS"), ("sagittal", Y, _neg(Z), "HFS"),
])
def test_a_tilted_series_of_a_patient_in_any_position_comes_back_upright(plane, row, col, position, anatomy, models):
    """Patient Position says how the patient lay; the orientation is already in the patient's axes, so it changes
    nothing. Tilted 15 degrees along the AC-PC line: shown by the nearest axes, said."""
    placed = Anatomy(anatomy[plane][0], plane, 0.5, 5.0, tilt_about_x(15.0))
    (volume,) = read_volumes(zip_bytes(dicom_series(placed, row, col, PatientPosition=position)), name="s.zip")
    assert_upright(volume, plane, anatomy, models)
    assert any(note.startswith("3 oblique images (up to 15 degrees") for note in volume.notes)


def test_an_enhanced_multi_frame_coronal_series_stored_transposed_comes_back_upright(anatomy, models):
    """One enhanced MR file: the orientation in the shared functional groups, each frame's position its own, frames
    stored anterior first, rows running inferior [0,0,-1] and columns to the left [1,0,0]."""
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    placed = Anatomy(anatomy["coronal"][0], "coronal", 0.5, 5.0)
    frames = sorted((pydicom.dcmread(pydicom.filebase.DicomBytesIO(b)) for _, b in
                     dicom_series(placed, (0, 0, -1), X)), key=lambda d: -float(d.ImagePositionPatient[1]))
    ds = make_dataset(np.stack([f.pixel_array for f in frames]), sop_class="1.2.840.10008.5.1.4.1.1.4.1")
    ds.NumberOfFrames = len(frames)
    shared, facing, measures = Dataset(), Dataset(), Dataset()
    facing.ImageOrientationPatient = frames[0].ImageOrientationPatient
    measures.PixelSpacing, measures.SliceThickness = [0.5, 0.5], 5.0
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = Sequence([facing]), Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    groups = []
    for f in frames:
        group, where = Dataset(), Dataset()
        where.ImagePositionPatient = f.ImagePositionPatient
        group.PlanePositionSequence = Sequence([where])
        groups.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(groups)
    (volume,) = read_volumes(to_bytes(ds), name="enhanced.dcm")
    assert_upright(volume, "coronal", anatomy, models)


def test_one_coronal_slice_as_a_2d_or_singleton_nifti_comes_back_upright(anatomy, models):
    """dcm2niix writes one coronal image as (x, z, 1) with its coronal affine; others drop the third axis (2-D) or
    keep a 4-D singleton. Each is that one image, in its own plane, upright."""
    import nibabel as nib

    one = {"coronal": (anatomy["coronal"][0][:1], anatomy["coronal"][1][:1])}
    img = nib.Nifti1Image.from_bytes(nifti_file(Anatomy(one["coronal"][0], "coronal", 0.45, 5.0), "LSP", gz=False))
    voxels = np.asarray(img.dataobj)
    for data in (voxels, voxels[:, :, 0], voxels[..., None]):
        (volume,) = read_volumes(nib.Nifti1Image(data, img.affine).to_bytes(), name="one.nii")
        assert_upright(volume, "coronal", one, models)


def test_the_geometry_itself_is_what_the_header_says():
    """The builder's own check: the voxel an affine places at a point holds the anatomy's pixel there (dcm2niix's
    LAS: voxel (i, j) of an axial slice is the slice's row H-1-j, column i), and IOP [1,0,0, 0,1,0] stores the
    slice as it is viewed."""
    import nibabel as nib
    import pydicom

    stack = np.arange(2 * 4 * 3, dtype=np.int16).reshape(2, 4, 3)  # 2 slices of 4 rows x 3 columns
    img = nib.Nifti1Image.from_bytes(nifti_file(Anatomy(stack, "axial", 1.0, 2.0), "LAS", gz=False))
    assert "".join(nib.aff2axcodes(img.affine)) == "LAS" and img.header.get_zooms() == (1.0, 1.0, 2.0)
    voxels = np.asarray(img.dataobj)
    assert all(voxels[i, j, k] == stack[k, 3 - j, i] for i in range(3) for j in range(4) for k in range(2))
    for _, raw in dicom_series(Anatomy(stack, "axial", 1.0, 2.0), X, Y):
        ds = pydicom.dcmread(pydicom.filebase.DicomBytesIO(raw))
        k = round((float(ds.ImagePositionPatient[2]) + 40.0) / 2.0)  # the anatomy starts at z = -40 mm
        assert np.array_equal(ds.pixel_array, stack[k]) and list(ds.ImageOrientationPatient) == [1, 0, 0, 0, 1, 0]
