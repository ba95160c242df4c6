"""Class-activation maps: exact for the GAP + linear head, drawn in numpy, and written by the CLI."""

from __future__ import annotations

import io
import json
import shutil
import zlib

import numpy as np
import pytest
from conftest import extra_reason
from PIL import Image

from braintumor import heatmap
from braintumor.cli import main
from braintumor.predictor import Classifier


def test_cam_is_exact_spatial_mean_plus_bias_is_the_logits(tiny_classifier, test_images):
    clf = tiny_classifier
    batch = np.stack([clf.preprocess(p) for paths in test_images.values() for p in paths[:2]])
    logits, features = clf.run(batch)
    weight, bias = heatmap.head_weights(clf)
    cams = heatmap.class_activation_maps(features, weight)
    assert cams.shape == (len(batch), len(clf.classes), *features.shape[2:])
    np.testing.assert_allclose(cams.mean(axis=(2, 3)) + bias, logits, atol=1e-4, rtol=1e-4)


def test_explain_matches_predict_and_draws_the_crop_the_model_saw(tiny_classifier, test_images):
    clf = tiny_classifier
    path = test_images["glioma"][0]
    ex = heatmap.explain(clf, path)
    assert ex.prediction == clf.predict(path)
    s = clf.image_size
    assert ex.cam.shape == (s, s) and ex.cam.min() >= 0.0 and ex.cam.max() <= 1.0
    assert np.array_equal(ex.image, np.round(clf.preprocess(path)[0] * 255).astype(np.uint8))
    png = Image.open(io.BytesIO(ex.heatmap_png()))
    assert png.format == "PNG" and png.mode == "RGB" and png.size == (s, s)
    assert Image.open(io.BytesIO(ex.image_png())).mode == "L"


def test_each_answer_gets_the_map_of_its_own_class(test_images):
    """The overlay explains the class the answer names: slices of four classes, four different maps."""
    clf = Classifier.load()  # the shipped model names each class's first test slice correctly
    paths = [ps[0] for ps in test_images.values()]
    batch = np.stack([clf.preprocess(p) for p in paths])
    explained = heatmap.explain_batch(clf, batch)
    assert [e.prediction.label for e in explained] == list(clf.classes)
    cams = heatmap.class_activation_maps(clf.run(batch)[1], heatmap.head_weights(clf)[0])
    for k, ex in enumerate(explained):
        want = heatmap.upsample(heatmap.normalise(cams[k, k]), clf.image_size)
        np.testing.assert_allclose(ex.cam, want, atol=1e-6)


def test_normalise_relu_and_scale():
    out = heatmap.normalise(np.array([[-2.0, 0.0], [1.0, 4.0]]))
    np.testing.assert_allclose(out, [[0, 0], [0.25, 1.0]])
    assert not heatmap.normalise(-np.ones((3, 3))).any()  # nothing positive: no heat, no NaN


def test_upsample_keeps_range_and_size():
    out = heatmap.upsample(np.array([[0.0, 1.0], [1.0, 0.0]], np.float32), 32)
    assert out.shape == (32, 32) and out.min() >= 0 and out.max() <= 1 and 0 < out.mean() < 1


def _receptive_field_centre(model, cell: int) -> float:
    """Input pixel (index) on which cell ``cell`` of the last feature maps is centred: walking back through the main
    path, each layer maps its output index c to input index stride * c + (kernel - 1) / 2 - padding."""
    from torch import nn

    def first(v):
        return v[0] if isinstance(v, tuple) else v

    layers = [m for m in model.stem if isinstance(m, (nn.Conv2d, nn.MaxPool2d))]
    layers += [conv for block in model.features for conv in (block.conv1, block.conv2)]
    c = float(cell)
    for m in reversed(layers):
        c = first(m.stride) * c + (first(m.kernel_size) - 1) / 2 - first(m.padding)
    return c


@pytest.mark.parametrize("name", ["tumornet-s", "tumornet-xs", "tumornet-s-patch", "tumornet-s-deep", "tumornet-s-se"])
def test_upsample_puts_each_cell_on_the_centre_of_its_receptive_field(name):
    """A plain resize put each cell half a cell (15.5 of 160 pixels) down and right of where the network looked."""
    torch = pytest.importorskip("torch", reason=extra_reason("torch"))
    from braintumor.model import create_model

    model = create_model(name).eval()
    size = 160
    with torch.no_grad():
        cells = model.forward_features(torch.rand(1, 1, size, size)).shape[-1]
    for j in range(cells):
        one = np.zeros((cells, cells), np.float32)
        one[j, j] = 1.0
        up = heatmap.upsample(one, size)
        peak = np.unravel_index(up.argmax(), up.shape)
        centre = _receptive_field_centre(model, j)
        assert abs(peak[0] - centre) <= 1.5 and abs(peak[1] - centre) <= 1.5, (j, peak, centre)
        assert up.max() == pytest.approx(1.0)


def test_colour_map_goes_from_blue_to_red_and_cold_stays_gray():
    rgb = heatmap.colorize(np.array([0.0, 0.5, 1.0]))
    assert rgb.dtype == np.uint8 and rgb.shape == (3, 3)
    assert rgb[0, 2] > rgb[0, 0] and rgb[2, 0] > rgb[2, 2]  # cold blue, hot red
    gray = np.full((4, 4), 77, np.uint8)
    cold = heatmap.overlay(gray, np.zeros((4, 4)))
    assert (cold == 77).all()
    hot = heatmap.overlay(gray, np.ones((4, 4)), alpha=1.0)
    assert (hot == heatmap.colorize(np.ones((4, 4)))).all()


def test_a_model_without_head_weights_has_no_cam(tiny_classifier):
    meta = {k: v for k, v in tiny_classifier.metadata.items() if k != "head"}
    clf = Classifier(tiny_classifier.session, meta)
    assert heatmap.supports_cam(tiny_classifier) and not heatmap.supports_cam(clf)
    assert heatmap.explain(clf, np.full((80, 80), 100, np.uint8)).heatmap_png() is None


def test_predict_cli_writes_one_overlay_per_classified_input(tiny_model, tiny_classifier, test_images, tmp_path,
                                                            capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    src = test_images["glioma"][0]
    shutil.copy(src, tmp_path / "a" / "scan.jpg")
    shutil.copy(src, tmp_path / "b" / "scan.jpg")  # same name: must not overwrite the first
    (tmp_path / "b" / "notes.jpg").write_text("not an image")
    out = tmp_path / "maps"
    rc = main(["predict", str(tmp_path / "a" / "scan.jpg"), str(tmp_path / "b"), "--format", "jsonl",
               "--model", str(tiny_model), "--heatmap", str(out)])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 1  # notes.jpg failed
    written = sorted(p.name for p in out.iterdir())
    assert written == ["scan-2.heatmap.png", "scan.heatmap.png"]  # no temp files left behind
    good = [r for r in rows if "error" not in r]
    assert len(good) == 2 and {r["heatmap"] for r in good} == {str(out / n) for n in written}
    assert all("heatmap" not in r for r in rows if "error" in r)
    size = tiny_classifier.image_size
    assert Image.open(out / "scan.heatmap.png").size == (size, size)


def test_predict_cli_heatmap_needs_a_model_with_a_head(tmp_path, capsys, tiny_classifier, monkeypatch):
    monkeypatch.setattr(heatmap, "supports_cam", lambda clf: False)
    img = tmp_path / "x.png"
    Image.fromarray(np.full((50, 50), 90, np.uint8)).save(img)
    rc = main(["predict", str(img), "--model", str(tiny_classifier.path), "--heatmap", str(tmp_path / "m")])
    assert rc == 2 and "heat maps" in capsys.readouterr().err


@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_overlay_shape_and_dtype(alpha):
    out = heatmap.overlay(np.zeros((8, 8), np.uint8), np.linspace(0, 1, 64).reshape(8, 8), alpha)
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each chunk, each CRC checked (Pillow does not check IDAT's)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, i = [], 8
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        body = data[i + 4:i + 8 + n]
        assert int.from_bytes(data[i + 8 + n:i + 12 + n], "big") == zlib.crc32(body)
        chunks.append((body[:4], body[4:]))
        i += 12 + n
    return chunks


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (160, 160), (1, 5, 3), (9, 4, 3), (160, 160, 3)])
@pytest.mark.parametrize("strategy", [zlib.Z_DEFAULT_STRATEGY, zlib.Z_RLE])
def test_encode_png_decodes_to_the_same_pixels(shape, strategy):
    """The PNG writer is our own (Up filter + zlib): Pillow must read back every pixel, wrap-around included."""
    pixels = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    pixels[0] = 255  # rows that differ by more than 127 from the next: the filter's mod-256 wrap
    data = heatmap.encode_png(pixels, strategy=strategy)
    assert [tag for tag, _ in _png_chunks(data)] == [b"IHDR", b"IDAT", b"IEND"]  # every CRC checked there
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.mode == ("RGB" if len(shape) == 3 else "L")
    assert np.array_equal(np.asarray(img), pixels)


@pytest.mark.parametrize("shape", [(0, 4), (4, 4, 4), (4, 4, 1), (8,)])
def test_encode_png_refuses_what_is_not_a_gray_or_rgb_image(shape):
    with pytest.raises(ValueError, match="expected"):
        heatmap.encode_png(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("alpha", [0.3, 0.6, 1.0])
def test_overlay_table_stays_within_three_levels_of_the_blend(alpha):
    """overlay looks the blend up by 8-bit heat level; the blend at full heat precision is its definition.
    Bound: half a heat step (1/510) times the colour map's steepest slope (~1530 levels per unit), ~3."""
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    heat = np.concatenate([np.linspace(0.0, 1.0, 64 * 63), rng.random(64)]).reshape(64, 64)
    w = alpha * heat[..., None]
    exact = gray[..., None] * (1.0 - w) + heatmap.colorize(heat).astype(np.float64) * w
    diff = np.abs(heatmap.overlay(gray, heat, alpha).astype(float) - exact)
    assert diff.max() <= 3.0 and diff.mean() < 0.5


def test_serving_a_heat_map_imports_no_training_module(tiny_model, test_images):
    """Training sits beside serving and is never imported by it: the heat map's cell spacing came from train_config."""
    import subprocess
    import sys

    code = (f"import sys; from braintumor.web import create_app; app = create_app(model_path={str(tiny_model)!r}); "
            f"data = open({str(test_images['glioma'][0])!r}, 'rb').read(); "
            "r = app.test_client().post('/api/v1/predict?heatmap=1', data=data, content_type='image/jpeg'); "
            "assert r.status_code == 200 and 'heatmap_png_base64' in r.get_json()['results'][0], r.status_code; "
            "print(sorted(m for m in sys.modules if m.split('.')[-1] in "
            "('train', 'train_config', 'augment', 'model', 'checkpoints') or m == 'torch'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_head_converted_once_follows_the_metadata(test_images):
    """explain converts the head's JSON lists to arrays once per classifier; a classifier whose metadata gets another
    head (a recalibrated or hand-edited copy) is explained with that one, not the first."""
    import copy

    clf = Classifier.load(threads=1)
    path = test_images["glioma"][0]
    first = heatmap.explain(clf, path)
    assert np.array_equal(heatmap.explain(clf, path).cam, first.cam)  # from the converted arrays
    k = clf.classes.index(first.prediction.label)
    head = copy.deepcopy(clf.metadata["head"])
    head["weight"][k] = [-w for w in head["weight"][k]]  # the opposite evidence: another map
    clf.metadata["head"] = head
    flipped = heatmap.explain(clf, path)
    features = clf.run(clf.preprocess(path)[None])[1][0]
    raw = heatmap.class_activation_maps(features, np.array([head["weight"][k]]))[0]
    want = heatmap.upsample(heatmap.normalise(raw), clf.image_size)
    assert not np.array_equal(flipped.cam, first.cam)
    np.testing.assert_array_equal(flipped.cam, want)


def test_model_view_clips_the_slack_past_0_and_1_not_wrapping_round_uint8():
    """check_model_input takes inputs a little past [0, 1] (a caller's bicubic resize): the view drawn under the heat
    map showed a background of -0.03 white (248) and a bright 1.04 black (9)."""
    x = np.array([[[-0.03, 0.5, 1.04]]], dtype=np.float32)
    assert heatmap.model_view(x).tolist() == [[0, 128, 255]]
