"""Images smaller than image_io.MIN_SIDE are refused with one precise message, in every front end (a 32 x 32
thumbnail was classified, glioma 98.99 %, flagged for review only); a scan's slices only under the lower
volume_objects.MIN_SCAN_SIDE (a 2 x 2 x 3 volume's slices were scored), in the same words."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor import Classifier, ImageError
from braintumor.image_io import MIN_SIDE
from braintumor.volume_objects import MIN_SCAN_SIDE, Slice

SMALL = "image is 32x48 pixels; at least 64x64 needed: "


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load(threads=1)


def _small() -> np.ndarray:
    return np.asarray(Image.fromarray(synthetic_head(200)).resize((32, 48)))  # 32 wide, 48 high


def test_the_python_api_refuses_a_small_image_in_every_form(clf):
    for source in (_small(), Image.fromarray(_small()), encode(_small()), io.BytesIO(encode(_small(), "JPEG"))):
        with pytest.raises(ImageError, match=f"^{SMALL}"):
            clf.predict(source)
    outcomes = [o for _, o in clf.predict_many([_small(), synthetic_head(200)])]
    assert isinstance(outcomes[0], ImageError) and not isinstance(outcomes[1], ImageError)


def test_the_minimum_itself_is_accepted(clf):
    assert MIN_SIDE == 64
    clf.predict(synthetic_head(64))  # no ImageError


def test_a_scan_slice_is_held_to_its_own_lower_minimum(clf):
    """A scan's matrix is its real resolution (64 x 64 EPI, a thick volume's 64 x 40 cut): under MIN_SIDE it is
    classified, but under MIN_SCAN_SIDE it was scored too, a 2 x 2 slice refused only as unlike MRI."""
    assert MIN_SCAN_SIDE == 32
    clf.predict(Slice(synthetic_head(48)))  # an acquisition matrix, not a shrunk copy: refusal check and review only
    clf.predict(Slice(synthetic_head(32)))  # the minimum itself
    for h, w in ((31, 40), (40, 31), (2, 2)):
        with pytest.raises(ImageError, match=f"^scan slice is {w}x{h} pixels; at least 32x32 needed: smaller scan "
                                             "slices lose the detail the model reads$"):
            clf.predict(Slice(np.asarray(Image.fromarray(synthetic_head(200)).resize((w, h)))))


def refused_once_everywhere(client, path, data: bytes, said: str, capsys) -> None:
    """``data`` saved as ``path`` is one record of error ``said`` in braintumor predict's jsonl, in the web API's
    results (a 400) and on the page (one card, not a series block's)."""
    from braintumor.cli import main

    path.write_bytes(data)
    assert main(["predict", str(path), "--format", "jsonl", "--no-progress"]) != 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["error"], "slice" in r) for r in rows] == [(said, False)]
    r = client.post("/api/v1/predict", data={"file": (io.BytesIO(data), path.name)},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and [rec.get("error") for rec in r.get_json()["results"]] == [said]
    page = client.post("/", data={"file": (io.BytesIO(data), path.name)},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert page.count("at least 32x32 needed") == 1 and said in page


def test_a_volume_of_tiny_slices_is_refused_once_for_their_size_everywhere(clf, tmp_path, capsys):
    """A NIfTI volume whose slices are under MIN_SCAN_SIDE (1 x 1 x 500, 2 x 2 x 3) is refused once, on its header,
    for its slices' size, in the CLI, the web API and the page: each slice was decoded, then refused for it, 500 lines
    of one error for a 1 x 1 x 500 volume (an image of that size is refused once)."""
    from dicom_factory import nifti_bytes

    from braintumor.web import create_app

    client = create_app(classifier=clf).test_client()
    for shape, said in (((2, 2, 3), "cuts into 3 axial slices: scan slice is 2x2 pixels"),
                        ((1, 1, 500), "cuts into 500 axial slices: scan slice is 1x1 pixels")):
        data = nifti_bytes(np.random.default_rng(0).normal(100, 30, shape).astype(np.float32))
        said = (f"NIfTI volume of shape {shape} {said}; at least 32x32 needed: smaller scan slices lose the detail "
                "the model reads")
        refused_once_everywhere(client, tmp_path / "tiny.nii.gz", data, said, capsys)
    # the model card says the scan slice's minimum beside the image's (only the image's was there)
    limits = client.get("/api/v1/model").get_json()["limits"]
    assert (limits["min_side"], limits["min_scan_side"]) == (MIN_SIDE, MIN_SCAN_SIDE)


def test_a_volume_is_refused_for_its_slices_size_before_any_slice_is_cut(monkeypatch):
    """Once, no slice cut: a 1 x 1 x 500 volume had its 500 slices stretched and made square, each then refused for
    its size; said after what its values say it is (a label map is told so). A 32 x 32 x 2 one is read, and a thin
    slab whose own plane is large enough is cut in it (4 x 100 x 100: sagittal), as before."""
    from dicom_factory import nifti_bytes

    from braintumor import nifti_io
    from braintumor.volume_io import read_volumes

    cut = []
    monkeypatch.setattr(nifti_io, "robust_uint8", lambda plane, *a: cut.append(plane) or np.zeros(plane.shape, "u1"))
    thin = nifti_bytes(np.random.default_rng(0).normal(100, 30, (1, 1, 500)).astype(np.float32), gz=False)
    with pytest.raises(ImageError, match=r"^NIfTI volume of shape \(1, 1, 500\) cuts into 500 axial slices: scan "
                                         r"slice is 1x1 pixels; at least 32x32 needed"):
        read_volumes(thin, name="thin.nii")
    with pytest.raises(ImageError, match="a label or segmentation map"):
        read_volumes(nifti_bytes(np.tile(np.arange(4, dtype=np.uint8), (1, 1, 125))), name="labels.nii.gz")
    assert cut == []
    monkeypatch.undo()
    assert [v.slices[0].pixels.shape for v in read_volumes(nifti_bytes(np.ones((32, 32, 2), np.int16)))] == [(32, 32)]
    (slab,) = read_volumes(nifti_bytes(np.ones((4, 100, 100), np.int16)))
    assert len(slab.slices) == 4 and slab.slices[0].meta["nifti"]["plane"] == "sagittal"


def test_the_cli_and_the_web_api_say_the_same(clf, tmp_path, capsys):
    from braintumor.cli import main
    from braintumor.web import create_app

    (tmp_path / "thumb.png").write_bytes(encode(_small()))
    assert main(["predict", str(tmp_path / "thumb.png"), "--format", "jsonl", "--no-progress"]) != 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["error"].startswith(SMALL)
    client = create_app(classifier=clf).test_client()
    r = client.post("/api/v1/predict", data={"file": (io.BytesIO(encode(_small())), "thumb.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["results"][0]["error"].startswith(SMALL)  # as any one bad file
    assert client.get("/api/v1/model").get_json()["limits"]["min_side"] == MIN_SIDE


def test_a_volume_of_small_slices_gets_its_heat_maps(test_images, tmp_path, capsys):
    """The heat maps of a scan's slices were drawn from their pixels, an image held to MIN_SIDE: 48 x 48 slices were
    classified, then their heat maps refused (a traceback in predict, a 500 in the web app's page)."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    slices = [np.asarray(Image.open(p).convert("L").resize((48, 48))) for p in test_images["glioma"][:2]]
    (tmp_path / "head.nii").write_bytes(nifti_bytes(axial_volume(slices)))
    main(["predict", str(tmp_path / "head.nii"), "--heatmap", str(tmp_path / "maps"), "--format", "jsonl",
          "--no-progress"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2 and not any("error" in r for r in rows) and any(r["label"] for r in rows)
    assert all(r.get("heatmap") for r in rows if r["label"])


def test_sizes_are_said_in_one_form_the_small_and_the_too_large_alike(clf):
    """The minimum size said "image is 32 x 48 pixels; at least 64 x 64" where the pixel limit said "image is
    10000x10000 pixels" (and DICOM, NIfTI, the OOD check and the web's request budget said "WxH" too): every message
    says a size through wording.size_text, and no f-string in the package writes one of its own."""
    import re
    from pathlib import Path

    import braintumor
    from braintumor.image_io import MAX_PIXELS
    from braintumor.wording import size_text

    with pytest.raises(ImageError) as small:
        clf.predict(_small())
    with pytest.raises(ImageError) as large:
        clf.predict(np.zeros((1, MAX_PIXELS + 1), np.uint8))
    assert str(small.value).startswith(f"image is {size_text(32, 48)} pixels; at least {size_text(64, 64)} needed")
    assert str(large.value).startswith(f"image is {size_text(MAX_PIXELS + 1, 1)} pixels; the limit is")
    own = re.compile(r"\{[^{}()]+\} ?(?:x|by|×) ?\{[^{}()]+\}")  # f"{w}x{h}", f"{size[0]} x {size[1]}"
    package = Path(braintumor.__file__).parent
    found = [f"{path.name}: {line.strip()}" for path in package.rglob("*.py") if path.name != "wording.py"
             for line in path.read_text().splitlines() if own.search(line)]
    assert found == []
