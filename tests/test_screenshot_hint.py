"""A screenshot of an MRI viewer (the slice with the viewer's toolbar, panels and frame around it) was refused as
"its features are far from every training slice", or with a coloured toolbar as a "colour image", with nothing to do
about it; cropped to the slice's edges, it is answered. An image refused for its distance or its colour is told so,
as a condition (the checks cannot tell a screenshot from any other far or colour image); a scan's slice, no
screenshot, is not. The shipped model, the dataset's test images."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image, ImageDraw

from braintumor.image_io import InputInfo, read_image
from braintumor.ood import CROP_HINT, FAR_FEATURES, with_crop_hint
from braintumor.prediction import refusal_reason
from braintumor.volume_objects import Slice

#: Where the slice sits in the screenshot (left, top, side).
AT = (420, 150, 400)


def viewer_screenshot(gray: np.ndarray) -> np.ndarray:
    """``gray`` at :data:`AT` in a gray 1280 x 720 viewer: a toolbar of buttons, a dark series panel on the left, a
    panel of text lines on the right."""
    shot = Image.new("L", (1280, 720), 60)
    draw = ImageDraw.Draw(shot)
    draw.rectangle([0, 0, 1279, 39], fill=90)
    for k in range(8):
        draw.rectangle([10 + 40 * k, 8, 40 + 40 * k, 32], fill=160)
    draw.rectangle([0, 40, 219, 719], fill=45)
    draw.rectangle([1020, 40, 1279, 719], fill=75)
    for k in range(20):
        draw.rectangle([1040, 60 + 24 * k, 1120 + (37 * k) % 140, 70 + 24 * k], fill=200)
    left, top, side = AT
    shot.paste(Image.fromarray(gray).resize((side, side)), (left, top))
    return np.asarray(shot)


def test_the_distance_refusal_of_an_image_says_what_to_try_and_a_scan_slices_does_not(clf):
    det = clf.ood
    assert det.network_reason(InputInfo(100, 100), det.threshold * 1.01) == f"{FAR_FEATURES}; {CROP_HINT}"
    assert det.network_reason(InputInfo(100, 100, scan=True), det.threshold * 1.01) == FAR_FEATURES
    assert det.network_reason(None, det.threshold * 1.01) == f"{FAR_FEATURES}; {CROP_HINT}"  # a batch, as predict's
    assert "screenshot" not in FAR_FEATURES and CROP_HINT.startswith("if it is a screenshot")  # never a claim


def test_a_viewer_screenshot_is_told_to_crop_it_and_cropped_it_is_answered(clf, test_images, tmp_path, capsys):
    from braintumor.cli import main
    from braintumor.web import create_app

    shot = viewer_screenshot(read_image(test_images["glioma"][0]))
    png = io.BytesIO()
    Image.fromarray(shot).save(png, "PNG")
    told = refusal_reason(f"{FAR_FEATURES}; {CROP_HINT}")
    assert clf.predict(shot).reason == told
    left, top, side = AT
    assert not clf.predict(shot[top:top + side, left:left + side]).ood  # what it is told to do works
    assert clf.predict(Slice(shot)).reason == refusal_reason(FAR_FEATURES)  # a scan's slice: no screenshot
    (tmp_path / "viewer.png").write_bytes(png.getvalue())
    main(["predict", str(tmp_path / "viewer.png"), "--format", "jsonl", "--no-progress"])
    assert json.loads(capsys.readouterr().out.splitlines()[0])["reason"] == told
    client = create_app(classifier=clf).test_client()
    r = client.post("/api/v1/predict", data={"file": (io.BytesIO(png.getvalue()), "viewer.png")},
                    content_type="multipart/form-data")
    assert r.get_json()["results"][0]["reason"] == told
    page = client.post("/", data={"file": (io.BytesIO(png.getvalue()), "viewer.png")},
                       content_type="multipart/form-data")
    assert CROP_HINT in page.get_data(as_text=True)  # the card the server renders (no JavaScript)


def test_a_screenshot_with_a_coloured_toolbar_is_told_to_crop_it_too(clf, test_images):
    shot = np.repeat(viewer_screenshot(read_image(test_images["glioma"][0]))[..., None], 3, axis=2)
    shot[:40] = (30, 80, 160)  # a blue title bar
    colour = "colour image (MRI slices are grayscale)"
    assert clf.predict(shot).reason == refusal_reason(f"{colour}; {CROP_HINT}")
    left, top, side = AT
    assert not clf.predict(shot[top:top + side, left:left + side]).ood
    assert with_crop_hint(colour, InputInfo(9, 9, scan=True)) == colour
