"""Out-of-distribution refusal: the maths on synthetic data, the shipped model on real MRI and on images packages
ship, and every surface (Python API, CLI, JSON API, page). ``braintumor calibrate`` itself: test_calibrate.py."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
from conftest import encode, extra_reason, needs, synthetic_head
from PIL import Image

from braintumor.colour import chroma_colourfulness, colourfulness
from braintumor.image_io import decode_image, read_image
from braintumor.model_files import ModelError
from braintumor.ood import (
    CROP_HINT,
    FAR_FEATURES,
    TEMPERATURE_RANGE,
    OODDetector,
    fit_ood,
    fit_temperature,
    joint_features,
    temperature_at_bound,
    temperature_bound_note,
)
from braintumor.ood_samples import matplotlib_mri_slice, ood_samples
from braintumor.ood_stats import image_stats
from braintumor.prediction import softmax
from braintumor.predictor import Classifier
from braintumor.web import create_app

#: How an image (not a scan's slice) refused for its distance is told, ending its reason.
FAR_IMAGE = f"{FAR_FEATURES}; {CROP_HINT}"


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    clf = Classifier.load()
    assert clf.ood is not None, "the shipped model must carry OOD statistics (braintumor calibrate)"
    assert clf.ood.uses_middle  # middle-stage features: what makes grayscale photos refusable
    return clf


#: the tests naming one of scikit-image's sample photos: without it (the [dev] extra) a KeyError, not a skip
needs_photos = needs("scikit-image's sample photos", "skimage")


@pytest.fixture(scope="module")
def samples():
    return {s.name: s for s in ood_samples()}


def test_fit_temperature_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(4000, 4))
    labels = np.array([rng.choice(4, p=p) for p in softmax(logits, 2.0)])
    assert fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.1)
    # logits far beyond exp's range (an input unlike any training slice can give them) stay probabilities
    np.testing.assert_array_equal(softmax(np.array([[1000.0, 0.0, -5.0]]), 0.3), [[1.0, 0.0, 0.0]])
    assert not temperature_at_bound(fit_temperature(logits, labels)) and temperature_bound_note(2.0) == ""


def test_a_temperature_on_an_end_of_its_search_says_so():
    """4 validation images, all misread, printed "temperature 10.0000" as if fitted: their likelihood still rises
    with T at the search's end (all read right, it falls with T at the other end)."""
    logits = np.array([[2.0, 0.0, 0.0, 0.0]] * 4)
    for labels, end in ((np.array([1, 2, 3, 1]), TEMPERATURE_RANGE[1]), (np.zeros(4, int), TEMPERATURE_RANGE[0])):
        t = fit_temperature(logits, labels)
        assert t == pytest.approx(end, rel=1e-6) and temperature_at_bound(t)
        assert temperature_at_bound(round(t, 5))  # as the model's metadata stores it
        assert "not a fitted minimum" in temperature_bound_note(t)


def test_fit_ood_refuses_about_one_percent_of_in_distribution_and_far_points():
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 4, size=(4, 16))
    y = rng.integers(0, 4, 3000)
    pooled = np.abs(centres[y] + rng.normal(0, 1, (3000, 16)))
    prepared = rng.integers(0, 255, (3000, 8, 8)).astype(np.uint8)
    params = fit_ood(pooled[:2000], prepared[:2000], y[:2000], pooled[2000:2500], prepared[2000:2500], 20.0)
    det = OODDetector(json.loads(json.dumps(params)))  # survives the JSON round trip of the metadata
    held_out = det.network_scores(pooled[2500:], prepared[2500:]) > det.threshold
    assert held_out.mean() < 0.03
    far = np.abs(rng.normal(0, 4, (100, 16))) * 5
    assert (det.network_scores(far, prepared[:100]) > det.threshold).mean() > 0.95


def test_network_score_is_the_nearest_class_mahalanobis_distance():
    """The fast path (x @ W - mu @ W, einsum, float32) equals the definition min_k |(x - mu_k) L| (float64)."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 600)
    pooled = np.abs(rng.normal(0, 1, (600, 12)) + y[:, None])
    prepared = rng.integers(0, 255, (600, 8, 8)).astype(np.uint8)
    det = OODDetector(fit_ood(pooled[:400], prepared[:400], y[:400], pooled[400:], prepared[400:], 20.0))
    x = joint_features(pooled[400:], prepared[400:])
    direct = np.sqrt((((x[:, None, :] - det.means[None]) @ det.whiten) ** 2).sum(axis=2).min(axis=1))
    np.testing.assert_allclose(det.network_scores(pooled[400:], prepared[400:]), direct / det.maha_scale, rtol=1e-5)


def test_the_fit_is_the_mahalanobis_distance_to_the_class_means_with_their_shared_covariance():
    """Scores (times their scale) are min_k sqrt((x - mu_k)^T C^-1 (x - mu_k)), C the within-class covariance of the
    training features plus the shrinkage (float64 here; the model stores float16); val_refused is the share of the
    validation split that the detector refuses (score > threshold, as Classifier.classify refuses)."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 4, 2500)
    pooled = np.abs(rng.normal(0, 1, (2500, 6)) * [1, 2, 1, 3, 1, 1] + 2 * y[:, None])
    prepared = rng.integers(0, 255, (2500, 8, 8)).astype(np.uint8)
    params = fit_ood(pooled[:2000], prepared[:2000], y[:2000], pooled[2000:], prepared[2000:], 20.0)
    det = OODDetector(json.loads(json.dumps(params)))
    x = joint_features(pooled[:2000], prepared[:2000])
    means = np.stack([x[y[:2000] == k].mean(axis=0) for k in range(4)])
    centred = x - means[y[:2000]]
    cov = centred.T @ centred / len(x)
    cov += 1e-3 * np.trace(cov) / len(cov) * np.eye(len(cov))
    diff = joint_features(pooled[2000:], prepared[2000:])[:, None, :] - means[None]
    want = np.sqrt(np.einsum("nkd,de,nke->nk", diff, np.linalg.inv(cov), diff).min(axis=1))
    scores = det.network_scores(pooled[2000:], prepared[2000:])
    np.testing.assert_allclose(scores * det.maha_scale, want, rtol=2e-2)
    assert params["val_refused"] == np.mean(scores > det.threshold) > 0


def test_image_stats_dark_fraction_matches_its_definition():
    """The histogram shortcut for "share of pixels below 0.1 x (99th percentile + 1)" equals the direct count."""
    rng = np.random.default_rng(5)
    crops = np.concatenate([rng.integers(0, 256, (20, 16, 16)), rng.integers(0, 30, (20, 16, 16)),
                            np.zeros((1, 16, 16)), np.full((1, 16, 16), 255)]).astype(np.float32)
    levels = crops.reshape(len(crops), -1).astype(np.uint8)
    top = np.percentile(levels, 99, axis=1) + 1.0
    np.testing.assert_array_equal(image_stats(crops)[:, 0], (levels < 0.1 * top[:, None]).mean(axis=1))


def test_image_stats_equal_their_float_definitions():
    """The integer shortcuts (region sums of uint8 levels, |diff| in uint8) give the statistics as defined
    on the float crops the model sees (uint8 / 255 * 255, so within 2e-5 of integers)."""
    rng = np.random.default_rng(6)
    ints = np.concatenate([rng.integers(0, 256, (6, 40, 40)), rng.integers(0, 4, (2, 40, 40))])
    crops = (ints.astype(np.float32) * np.float32(1 / 255)) * np.float32(255)
    n, size = crops.shape[0], crops.shape[-1]
    top = np.percentile(ints.reshape(n, -1), 99, axis=1) + 1.0
    c, lo, hi = size // 10, size * 5 // 16, size * 11 // 16
    corners = np.concatenate([crops[:, :c, :c], crops[:, :c, -c:], crops[:, -c:, :c], crops[:, -c:, -c:]], axis=1)
    hist = np.stack([np.histogram(r, bins=16, range=(0, 256))[0] for r in ints.reshape(n, -1)]) / size ** 2
    expected = np.stack([(ints.reshape(n, -1) < 0.1 * top[:, None]).mean(axis=1),
                         corners.mean(axis=(1, 2)) / top,
                         crops[:, lo:hi, lo:hi].mean(axis=(1, 2)) / top,
                         np.abs(np.diff(crops, axis=2)).mean(axis=(1, 2)) / top,
                         -(hist * np.log(hist + 1e-9)).sum(axis=1)], axis=1)
    np.testing.assert_allclose(image_stats(crops), expected, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(image_stats(crops[3:4]), expected[3:4], rtol=1e-5, atol=1e-9)


@needs_photos
def test_colourfulness_separates_gray_from_colour(samples):
    gray = np.stack([np.full((32, 32), 100, np.uint8)] * 3, axis=-1)
    assert colourfulness(gray) == 0
    _, info = decode_image(samples["astronaut.png"].data, draft_size=256)
    assert info.colourfulness > 30

    # Hasler & Suesstrunk's formula (the fitted colour limit is on its scale): std and 0.3 x mean of the opponents
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255  # R - G = 255, (R + G) / 2 - B = 127.5 everywhere
    assert colourfulness(red) == pytest.approx(0.3 * np.hypot(255, 127.5))
    red[:2] = 0  # half black: means and standard deviations both half of that
    assert colourfulness(red) == pytest.approx(1.3 * np.hypot(127.5, 63.75))
    # a JPEG's YCbCr pixels (read without conversion) score what their RGB pixels score, up to 8-bit rounding
    tinted = (np.random.default_rng(2).integers(0, 120, (64, 64, 3)) + np.array([100, 40, 60])).astype(np.uint8)
    ycc = np.asarray(Image.fromarray(tinted).convert("YCbCr"))
    assert chroma_colourfulness(ycc) == pytest.approx(colourfulness(tinted), rel=0.01)


def test_shipped_model_accepts_real_mri(shipped, test_images):
    paths = [p for cls in test_images.values() for p in cls]
    preds = [p for _, p in shipped.predict_many(paths)]
    refused = [str(path) for path, p in zip(paths, preds, strict=True) if p.ood]
    assert len(refused) <= max(1, len(paths) // 50), refused
    assert all(p.label is not None and p.ood_score is not None for p in preds if not p.ood)


def test_shipped_model_refuses_photos_documents_and_synthetic_frames(shipped, samples):
    picked = [s for s in samples.values() if s.category in ("photo", "document", "synthetic", "medical-other")]
    assert len(picked) >= 30
    preds = [p for _, p in shipped.predict_many([s.data for s in picked])]
    accepted = [s.name for s, p in zip(picked, preds, strict=True) if not p.ood]
    assert len(accepted) <= len(picked) // 20, accepted
    refused = next(p for p in preds if p.ood)
    assert refused.label is None and refused.confidence is None
    assert refused.reason.startswith("unlike the brain MRI slices the model was trained on")


def test_ood_score_is_the_distance_in_units_of_the_refusal_threshold(shipped, test_images):
    """README: ood_score is scaled so that the refusal threshold is 1. Halve the threshold: the score doubles, and
    a slice it then puts above 1 is refused for its features."""
    import copy

    path = test_images["glioma"][0]
    before = shipped.predict(path)
    assert not before.ood and 0.5 < before.ood_score <= 1.0
    meta = copy.deepcopy(shipped.metadata)
    meta["ood"]["threshold"] /= 2
    after = Classifier(shipped.session, meta).predict(path)
    assert after.ood_score == pytest.approx(2 * before.ood_score, abs=2e-4)
    assert after.ood and after.reason.endswith(FAR_IMAGE)


@pytest.mark.parametrize("ratio", [1.00003, 0.99997, 1.00012])
def test_ood_score_is_above_1_exactly_when_the_features_refuse(shipped, test_images, ratio):
    """ood_score is shown to 4 decimals: a slice refused for its features within 5e-5 of the threshold was shown as
    1.0 ("values above 1 are refused"), as an accepted one that close is (Te-no_0051.jpg on an AVX2 CPU)."""
    import copy

    path = test_images["glioma"][0]
    x, _ = shipped.inspect(path)
    outs = shipped.run_all(x[None])
    raw = shipped.ood.network_scores(outs["features"].mean(axis=(2, 3)), x[None][:, 0] * np.float32(255),
                                     outs.get("pooled_middle"))[0]
    meta = copy.deepcopy(shipped.metadata)
    meta["ood"]["threshold"] = raw / ratio
    pred = Classifier(shipped.session, meta).predict(path)
    assert pred.ood == (ratio > 1) == (pred.ood_score > 1), pred
    assert pred.ood_score == pytest.approx(ratio, abs=1.5e-4)


@needs_photos
def test_input_checks_name_the_reason(shipped, samples):
    assert "colour" in shipped.predict(samples["coffee.png"].data).reason
    assert "blank" in shipped.predict(encode(np.zeros((200, 200), np.uint8))).reason
    wide = synthetic_head(200, canvas=(200, 900))
    assert "aspect" in shipped.predict(encode(wide)).reason


def test_input_checks_refuse_past_their_limits_and_not_before(shipped):
    """Each input check at its limit: a side more than 3x the other (tall or wide), colour above the fitted
    limit, a DICOM modality other than MR or OT, a crop whose standard deviation is under 2 gray levels, and (after
    the network) a second head at least half as long as the first."""
    from braintumor.image_io import InputInfo

    det, head = shipped.ood, synthetic_head(64).astype(np.float32)
    assert det.input_reason(InputInfo(300, 100), head) is None and det.input_reason(InputInfo(100, 300), head) is None
    assert "aspect" in det.input_reason(InputInfo(301, 100), head)
    assert "aspect" in det.input_reason(InputInfo(100, 301), head)
    limit = det.max_colourfulness
    assert det.input_reason(InputInfo(100, 100, limit), head) is None
    assert "colour" in det.input_reason(InputInfo(100, 100, limit + 0.5), head)
    for modality, said in (("MR", None), ("OT", None), (None, None), ("", None),
                           (" ct", "CT image (DICOM modality CT)"), ("US", "ultrasound image (DICOM modality US)"),
                           ("XC", "XC image (DICOM modality XC)")):
        reason = det.input_reason(InputInfo(100, 100, modality=modality), head)
        assert reason == (said and f"{said}; the model reads MRI only"), modality
    for second, several in ((0.49, False), (0.5, True)):  # after the network: a distance within the threshold
        reason = det.network_reason(InputInfo(100, 100, second_head=second), det.threshold)
        assert (reason is not None and reason.startswith("several images in one")) == several
    assert det.network_reason(InputInfo(100, 100, second_head=1.0), det.threshold * 1.01).startswith("its features")
    for spread, blank in ((1.9, True), (2.1, False)):  # half the pixels 100 - spread, half 100 + spread
        crop = np.full((64, 64), 100.0 + spread, np.float32)
        crop[::2] = 100.0 - spread
        assert (det.input_reason(None, crop) == "blank or nearly uniform image") == blank


def test_several_slices_in_one_image_are_refused_and_told_to_send_them_one_by_one(shipped, test_images, samples):
    """Two slices side by side (a screenshot of a viewer, a figure) were answered about one of them, unsaid which
    (glioma + meningioma: meningioma, 99.99 %); 96 of 100 random side-by-side pairs of test slices were answered so.
    No slice of the dataset has a second head-sized run of rows or columns (at most 0.27 of the head's). Lines of
    text and stripes form several runs too: they keep the true reason, their features."""
    gray = [read_image(test_images[c][0]) for c in ("glioma", "meningioma", "notumor", "pituitary")]
    for montage in (np.hstack(gray[:2]), np.vstack(gray[2:]), np.vstack([np.hstack(gray[:2]), np.hstack(gray[2:])])):
        pred = shipped.predict(encode(montage))
        assert pred.ood and pred.label is None, pred
        assert pred.reason.endswith("several images in one (side by side or in a grid): send each slice on its own")
    assert not shipped.predict(encode(np.pad(gray[0], ((0, 0), (0, 224))))).ood  # one slice, a wide empty margin
    for name in ("document-0", "stripes"):  # white lines on black
        assert shipped.predict(samples[name].data).reason.endswith(FAR_IMAGE)


def test_external_brain_mri_is_not_refused(shipped):
    pytest.importorskip("matplotlib", reason=extra_reason("matplotlib", what="the slice (matplotlib's sample data)"))
    mri = matplotlib_mri_slice()
    assert mri is not None
    assert not shipped.predict(mri).ood


@needs_photos
def test_cli_jsonl_withholds_the_label(tmp_path, samples, capsys):
    from braintumor.cli import main

    photo = tmp_path / "photo.png"
    photo.write_bytes(samples["chelsea.png"].data)
    assert main(["predict", str(photo), "--format", "jsonl"]) == 0
    rec = json.loads(capsys.readouterr().out)
    # refused by the colour check before the network: ood_score (the feature distance) may be below 1
    assert rec["ood"] is True and rec["label"] is None and "colour" in rec["reason"]
    assert main(["predict", str(photo)]) == 0
    assert "not classified: unlike the brain MRI slices the model was trained on" in capsys.readouterr().out


@needs_photos
def test_api_and_page_say_it_is_not_a_brain_mri(shipped, samples):
    client = create_app(classifier=shipped).test_client()
    data = {"file": (io.BytesIO(samples["rocket.jpg"].data), "rocket.jpg")}
    res = client.post("/api/v1/predict?heatmap=1", data=data, content_type="multipart/form-data")
    assert res.status_code == 200
    rec = res.get_json()["results"][0]
    assert rec["ood"] is True and rec["label"] is None and "heatmap_png_base64" not in rec
    data = {"file": (io.BytesIO(samples["rocket.jpg"].data), "rocket.jpg")}
    page = client.post("/", data=data, content_type="multipart/form-data")
    assert page.status_code == 200
    assert b"Not classified: unlike the brain MRI slices the model was trained on" in page.data
    assert b'data-state="ood"' in page.data


def test_broken_ood_metadata_is_a_model_error(tiny_model, tmp_path):
    from braintumor.calibrate import write_metadata

    model = tmp_path / "broken.onnx"
    shutil.copy(tiny_model, model)
    write_metadata(model, {"ood": {"num_classes": 4}})
    with pytest.raises(ModelError, match="broken"):
        Classifier.load(model)


@needs_photos
def test_gray_photo_decoding_keeps_the_gray_path_unchanged(samples):
    """The colour probe must not change the grayscale pixels the model sees (trained with draft 'L')."""
    data = samples["chelsea.png#crop1"].data
    gray, _ = decode_image(data, draft_size=256)
    with Image.open(io.BytesIO(data)) as img:
        img.draft("L", (256, 256))
        want = np.asarray(img.convert("L"))
    assert np.array_equal(gray, want)
