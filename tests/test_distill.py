"""Knowledge distillation: the loss, the ONNX teacher, and a tiny real run with --teacher."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import extra_reason

from braintumor.classes import CLASSES
from braintumor.predictor import Classifier
from braintumor.preprocess import PreprocessConfig
from braintumor.train_config import ConfigError, TrainConfig

torch = pytest.importorskip("torch", reason=extra_reason("torch"))
F = torch.nn.functional


def test_distillation_loss_is_the_scaled_kl_divergence():
    from braintumor.distill import distillation_loss

    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g) * 3
    assert distillation_loss(t, t).item() == pytest.approx(0.0, abs=1e-6)
    for temp in (1.0, 2.0, 4.0):
        p, q = (t / temp).softmax(1), (s / temp).softmax(1)
        by_hand = (p * (p.log() - q.log())).sum(1).mean() * temp**2
        assert distillation_loss(s, t, temp).item() == pytest.approx(by_hand.item(), rel=1e-5)
    # the gradient pulls the student towards the teacher: one step lowers the loss
    s = s.clone().requires_grad_(True)
    loss = distillation_loss(s, t, 2.0)
    loss.backward()
    assert distillation_loss(s.detach() - 0.1 * s.grad, t, 2.0) < loss


def test_teacher_gives_the_exported_models_logits(tiny_model, test_images):
    from braintumor.distill import Teacher

    clf = Classifier.load(tiny_model, threads=1)
    batch = np.stack([clf.preprocess(p) for p in test_images["glioma"][:3] + test_images["notumor"][:3]])
    teacher = Teacher(tiny_model, CLASSES, clf.preprocess_config, threads=1)
    got = teacher.logits(torch.from_numpy(batch))
    assert got.dtype == torch.float32 and got.shape == (6, len(CLASSES))
    np.testing.assert_allclose(got.numpy(), clf.run(batch)[0], rtol=1e-5, atol=1e-5)


def test_teacher_refuses_models_that_saw_other_inputs(tiny_model, tmp_path):
    from braintumor.distill import Teacher

    pre = PreprocessConfig(image_size=64)
    with pytest.raises(ConfigError, match="other inputs"):
        Teacher(tiny_model, CLASSES, PreprocessConfig(image_size=96), threads=1)
    with pytest.raises(ConfigError, match="classes"):
        Teacher(tiny_model, CLASSES[::-1], pre, threads=1)
    with pytest.raises(ConfigError, match="not found"):
        Teacher(tmp_path / "missing.onnx", CLASSES, pre, threads=1)
    junk = tmp_path / "junk.onnx"
    junk.write_text("not a model")
    with pytest.raises(ConfigError, match=r"not an exported braintumor model \(not a valid ONNX file, or one "
                                          r"without braintumor's metadata\): pass the \.onnx 'braintumor export' "
                                          r"wrote$"):  # not "(InvalidProtobuf)"
        Teacher(junk, CLASSES, pre, threads=1)
    ckpt = tmp_path / "best.pt"  # a run's checkpoint: the teacher runs in ONNX Runtime, so it is exported first
    torch.save({"model": {}, "epoch": 1}, ckpt)
    with pytest.raises(ConfigError, match=rf"^--teacher {ckpt} is a torch checkpoint, not an exported model: export "
                                          rf"it first \(braintumor export {ckpt} --out teacher\.onnx\)$"):
        Teacher(ckpt, CLASSES, pre, threads=1)


def test_a_teacher_served_with_background_subtraction_teaches_on_the_inputs_it_was_trained_on(tmp_path):
    """The shipped file was trained without background subtraction and is served with it (calibrate set it):
    TRAINING.md's born-again command (``--image-size 160 --teacher models/braintumor-tumornet-s.onnx``) was
    refused with 'was trained on other inputs', which it was not."""
    from braintumor.distill import Teacher
    from braintumor.model_files import shipped_models_dir

    shipped = shipped_models_dir() / "braintumor-tumornet-s.onnx"
    if not shipped.is_file():
        pytest.skip("no shipped model")
    run = TrainConfig(data="", out="", image_size=160)  # the command's preprocessing: background_percentile 0
    assert Classifier.load(shipped, threads=1).preprocess_config.background_percentile == 1.0  # as served
    assert Teacher(shipped, CLASSES, run.preprocess_config(), threads=1).model_name == "tumornet-s"
    with pytest.raises(ConfigError, match="other inputs"):  # a student with it sees inputs the teacher never did
        Teacher(shipped, CLASSES, TrainConfig(data="", out="", image_size=160, background_percentile=1)
                .preprocess_config(), threads=1)


def test_distillation_settings_are_checked():
    for bad in ({"distill_weight": 1.5}, {"distill_weight": -0.1}, {"distill_temperature": 0.0},
                {"distill_temperature": 1e30}, {"teacher": "t.onnx", "start_size": 32}):
        with pytest.raises(ConfigError):
            TrainConfig(data="", out="", image_size=64, **bad)


def test_training_with_a_teacher(tiny_model, data_root, tmp_path, capsys, monkeypatch):
    import braintumor.train_data
    from braintumor.cli import main

    common = ["train", "--data", str(data_root), "--epochs", "1", "--limit-per-class", "8", "--image-size", "64",
              "--batch-size", "16", "--cache-dir", str(tmp_path / "c"), "--model", "tumornet-xs"]
    runs = {}
    for weight in ("0", "1"):
        run = tmp_path / f"w{weight}"
        assert main([*common, "--out", str(run), "--teacher", str(tiny_model), "--distill-weight", weight,
                     "--distill-temperature", "2"]) == 0
        runs[weight] = json.loads((run / "metrics.jsonl").read_text())
        meta = torch.load(run / "best.pt", weights_only=False)["meta"]
        assert meta["teacher"] == {"file": tiny_model.name, "model_name": "tumornet-s", "weight": float(weight),
                                   "temperature": 2.0}
    # same seed, same images: only the loss differs, so the teacher's term changed what was learned
    assert runs["0"]["train_loss"] != runs["1"]["train_loss"]
    # a teacher of another input size is refused with one line, exit code 2, before any image is decoded (it came
    # after every image's decode: minutes on the real data)
    monkeypatch.setattr(braintumor.train_data, "load_prepared", lambda *args, **kwargs: pytest.fail("decoded"))
    rc = main([*common, "--out", str(tmp_path / "bad"), "--image-size", "96", "--teacher", str(tiny_model)])
    assert rc == 2 and "--teacher" in capsys.readouterr().err
    assert not (tmp_path / "bad" / "metrics.jsonl").exists()
    assert not (tmp_path / "bad" / "config.json").exists() and not (tmp_path / "bad" / "split.json").exists()
