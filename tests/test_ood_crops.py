"""The input checks and crop statistics read from uint8 crops (``Classifier.classify_crops``, behind ``predict``,
``predict_many``, ``explain`` and the web API) answer exactly as from the float model input made of them
(``Classifier.classify``): the blank check still refuses what it refused, and every statistic is bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import encode, synthetic_head

from braintumor import heatmap, ood_stats, stripped
from braintumor.image_io import InputInfo
from braintumor.ood_stats import crop_levels, crop_tops, histogram_std, image_stats, level_histograms, level_stats
from braintumor.predictor import Classifier
from braintumor.preprocess import histogram_percentile, to_model_input


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load(threads=1)


def _floats(crops: np.ndarray) -> np.ndarray:
    """What the float path measures: the model input of the crops, back on the 0-255 scale."""
    return to_model_input(crops)[:, 0] * np.float32(255.0)


def _spread_crops(size: int = 48) -> np.ndarray:
    """Crops whose standard deviation is on, just under and just over the blank limit (2 gray levels), and far
    from it: half the pixels at 100 - d, half at 100 + d has a standard deviation of exactly d."""
    crops = []
    for low, high, share in ((98, 102, 0.5), (99, 101, 0.5), (97, 103, 0.5), (96, 104, 0.5), (0, 255, 0.5),
                             (100, 104, 0.25), (100, 105, 0.2), (100, 106, 0.12), (100, 107, 0.09), (7, 7, 0.0)):
        crop = np.full(size * size, low, np.uint8)
        crop[: round(share * size * size)] = high
        crops.append(crop.reshape(size, size))
    rng = np.random.default_rng(3)
    crops += [np.clip(np.round(100 + rng.normal(0, s, (size, size))), 0, 255).astype(np.uint8)
              for s in np.linspace(1.9, 2.1, 21)]
    return np.stack(crops)


def _tipping_crop() -> np.ndarray:
    """A 160 px crop whose exact standard deviation is just under 2 levels (1.9999999985) while the float crop's, as
    numpy computes it in float32, is 2.0: blank by its levels, not blank by the floats, which decide."""
    crop = np.full(160 * 160, 1, np.uint8)
    crop[:12800] = 5
    for i, v in ((7009, 2), (13487, 2), (14499, 0), (17095, 0), (24534, 3)):
        crop[i] = v
    return crop.reshape(1, 160, 160)


def test_the_levels_of_a_model_input_are_its_uint8_crop_for_every_level():
    """uint8 -> / 255 -> * 255 in float32 -> +0.5, truncated: each of the 256 levels comes back, so statistics of the
    uint8 crop are those the float path computes."""
    levels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    np.testing.assert_array_equal(crop_levels(_floats(levels)), levels)


def test_crop_statistics_from_uint8_levels_are_those_of_the_floats_bit_for_bit():
    rng = np.random.default_rng(4)
    for crops in (rng.integers(0, 256, (5, 40, 40)), rng.integers(0, 3, (2, 33, 33)), np.zeros((1, 16, 16)),
                  np.full((1, 16, 16), 255), _spread_crops()):
        crops = crops.astype(np.uint8)
        counts = level_histograms(crops)
        np.testing.assert_array_equal(counts, [np.bincount(c.ravel(), minlength=256) for c in crops])
        np.testing.assert_array_equal(level_stats(crops, counts), image_stats(_floats(crops)))
        np.testing.assert_array_equal(level_stats(crops), image_stats(_floats(crops)))
        # one crop (Python numbers) and a batch (arrays) agree, whatever the batch
        np.testing.assert_array_equal(np.concatenate([level_stats(c[None]) for c in crops]),
                                      level_stats(np.concatenate([crops, crops[:1]]))[:len(crops)])


def test_blank_check_from_the_histogram_answers_as_the_float_crop_or_leaves_it_to_the_floats(shipped):
    """Away from the limit the histogram answers, and as the float crop does; within its margin it does not answer
    (a standard deviation of exactly 2 levels: the float crop's rounding decides, as before)."""
    det, crops = shipped.ood, _spread_crops()
    answered = 0
    for crop, counts, floats in zip(crops, level_histograms(crops), _floats(crops), strict=True):
        assert histogram_std(counts) == pytest.approx(float(crop.astype(np.float64).std()), rel=1e-12, abs=1e-12)
        said = det.blank_from_histogram(counts)
        if said is not None:
            answered += 1
            assert said == det.is_blank(floats)
        else:
            assert abs(histogram_std(counts) - det.min_std) <= 0.01
    assert det.blank_from_histogram(level_histograms(crops[:1])[0]) is None  # exactly 2.0
    assert 10 < answered < len(crops)
    tipping = _tipping_crop()
    counts = level_histograms(tipping)[0]
    assert histogram_std(counts) < det.min_std and not det.is_blank(_floats(tipping)[0])  # the two disagree
    assert det.blank_from_histogram(counts) is None


def test_input_checks_from_crops_refuse_what_the_float_checks_refuse(shipped):
    det, crops = shipped.ood, _spread_crops()
    batch = to_model_input(crops)
    infos = [InputInfo(100, 100), None, InputInfo(400, 100), InputInfo(100, 100, colourfulness=99.0)]
    infos += [InputInfo(100, 100)] * (len(crops) - len(infos))
    stats, reasons = det.check_inputs(batch, infos, crops)
    want_stats, want_reasons = det.check_inputs(batch, infos)
    np.testing.assert_array_equal(stats, want_stats)
    assert reasons == want_reasons
    assert want_reasons.count("blank or nearly uniform image") >= 5  # what the check refuses is in the set
    tipping = _tipping_crop()  # not blank by the floats, as before, though blank by its levels
    assert det.check_inputs(to_model_input(tipping), [None], tipping)[1] == [None] == det.check_inputs(
        to_model_input(tipping), [None])[1]


def test_predict_predict_many_and_explain_answer_as_classify_of_the_model_input(shipped, test_images):
    """The crop path behind predict, predict_many and explain gives the Prediction that classify gives for the
    float input of the same image, on MRI slices, blank and near-blank images and a photo-like one."""
    rng = np.random.default_rng(5)
    sources: list = [paths[i] for paths in test_images.values() for i in range(3)]
    sources += [encode(np.full((64, 64), 40, np.uint8)), encode(synthetic_head(200)),
                encode(np.clip(np.round(100 + rng.normal(0, 2.0, (160, 160))), 0, 255).astype(np.uint8)),
                encode(rng.integers(0, 256, (120, 90, 3)).astype(np.uint8))]
    wanted = []
    for src in sources:
        x, info = shipped.inspect(src)
        crop, crop_info = shipped.inspect_crop(src)
        assert crop_info == info and crop.dtype == np.uint8
        np.testing.assert_array_equal(to_model_input(crop), x)
        wanted.append(shipped.classify(x[None], [info])[0][0])
    assert [shipped.predict(s) for s in sources] == wanted
    assert [p for _, p in shipped.predict_many(sources, batch_size=4)] == wanted
    assert any(p.ood and "blank" in p.reason for p in wanted) and any(not p.ood for p in wanted)
    for src, want in zip(sources[:4], wanted, strict=False):
        ex, x_info = heatmap.explain(shipped, src), shipped.inspect(src)
        old = heatmap.explain_batch(shipped, x_info[0][None], [x_info[1]])[0]
        assert ex.prediction == old.prediction == want
        np.testing.assert_array_equal(ex.image, old.image)
        np.testing.assert_array_equal(ex.cam, old.cam)


def test_each_crops_percentile_is_made_once_for_the_note_and_the_statistics(shipped, test_images, monkeypatch):
    """The skull-stripped note's and the statistics' scale (each crop's 99th percentile + 1, ``crop_tops``) is made
    once per batch and passed to both: each made its own (some 6 us a prediction, issue 6). What it is passed to
    answers as it does without it, bit for bit."""
    crops = np.stack([shipped.inspect_crop(paths[0])[0] for paths in test_images.values()])
    batch, counts = to_model_input(crops), np.asarray(level_histograms(crops), dtype=np.int64)
    tops = crop_tops(counts)
    np.testing.assert_array_equal(level_stats(crops, counts, tops), level_stats(crops))
    assert stripped.crop_shares(batch, crops, counts, tops) == stripped.crop_shares(batch, crops, counts) \
        == stripped.crop_shares(batch, None)
    calls = []

    def spy(module, name):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, **k: calls.append(name) or real(*a, **k))

    spy(ood_stats, "histogram_percentile")  # the statistics' for several crops
    spy(ood_stats, "histogram_percentile_one")  # for one crop, from its list
    spy(stripped, "histogram_percentile_one")  # the note's own, without tops
    for rows, made in ((crops[:1], "histogram_percentile_one"), (crops, "histogram_percentile")):
        calls.clear()
        shipped.classify_crops(rows, [None] * len(rows))
        assert calls == [made]


def test_one_crops_top_from_its_list_is_the_arrays_to_the_bit(shipped, test_images):
    """crop_tops reads one crop's histogram list as Pillow gave it (no array made and turned back into a list): the
    same float64 (1,) array as from the int64 array of it and as the several-row formula gives, for real crops, a
    blank one and a one-level one."""
    crops = [shipped.inspect_crop(paths[0])[0] for paths in test_images.values()]
    crops += [np.zeros((160, 160), np.uint8), np.full((160, 160), 255, np.uint8)]
    for crop in crops:
        hists = level_histograms(crop[None])
        from_list, from_array = crop_tops(hists), crop_tops(np.asarray(hists, dtype=np.int64))
        assert from_list.dtype == from_array.dtype == np.float64 and from_list.shape == (1,)
        np.testing.assert_array_equal(from_list, from_array)
        two = np.asarray(hists * 2, dtype=np.int64)  # the numpy formula's (made for several rows), not the list's
        assert from_list[0] == histogram_percentile(two, 99)[0] + 1.0
