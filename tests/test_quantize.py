"""``braintumor quantize``: an int8 copy that keeps the float file's contract (inputs, outputs, metadata, CAM)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import encode, extra_reason, synthetic_head

from braintumor.cli import main
from braintumor.heatmap import supports_cam
from braintumor.model_files import default_model_path
from braintumor.model_loading import METADATA_KEY
from braintumor.predictor import Classifier
from braintumor.preprocess import preprocess

onnx = pytest.importorskip("onnx", reason=extra_reason("onnx", what="quantizing (it edits the graph)"))
pytest.importorskip("onnxruntime.quantization")


@pytest.fixture(scope="module")
def int8_model(tiny_run, tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("int8") / "tiny-int8.onnx"
    # uncalibrated like tiny_model: 4 validation images cannot set an OOD threshold (calibration: test_ood.py)
    assert main(["quantize", str(tiny_model), "--run", str(tiny_run), "--out", str(out), "--no-calibrate"]) == 0
    return out


def test_int8_copy_quantises_the_convolutions_and_keeps_the_contract(tiny_model, int8_model):
    proto = onnx.load(str(int8_model))
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("QuantizeLinear") > 0 and ops.count("DequantizeLinear") > ops.count("Conv") > 0
    assert int8_model.stat().st_size < 0.5 * tiny_model.stat().st_size  # int8 weights
    q, f = Classifier.load(int8_model, threads=1), Classifier.load(tiny_model, threads=1)
    assert q.session.get_outputs()[0].name == "logits"
    assert [o.name for o in q.session.get_outputs()] == [o.name for o in f.session.get_outputs()]
    assert q.metadata["quantization"]["calibration_images"] == f.metadata["training"]["train_images"]
    assert "metrics" not in q.metadata  # the float file's test metrics do not describe this one
    assert {k: v for k, v in q.metadata.items() if k != "quantization"} == {
        k: v for k, v in f.metadata.items() if k != "metrics"}
    assert supports_cam(q)  # the head stays float: features and logits still agree
    # the first convolution (one input channel) stays float: its weight is a plain initializer, no DequantizeLinear
    produced = {out: n.op_type for n in proto.graph.node for out in n.output}
    convs = [n for n in proto.graph.node if n.op_type == "Conv"]
    assert [produced.get(c.input[1]) for c in convs] == [None] + ["DequantizeLinear"] * (len(convs) - 1)
    assert q.metadata["quantization"]["ort_disabled_optimizers"] == ["QDQPropagationTransformer"]


def test_int8_logits_follow_the_float_ones(tiny_model, int8_model, test_images):
    q, f = Classifier.load(int8_model, threads=1), Classifier.load(tiny_model, threads=1)
    x = np.stack([preprocess(p, f.preprocess_config) for cls in sorted(test_images) for p in test_images[cls][:4]])
    lq, lf = q.run(x)[0], f.run(x)[0]
    assert not np.array_equal(lq, lf)  # it really is another network
    spread = lf.max() - lf.min()
    assert np.abs(lq - lf).max() < 0.1 * spread, (lq, lf)
    logits, features = q.run(x)
    head = np.array(q.metadata["head"]["weight"]) @ features.mean(axis=(2, 3)).T
    assert np.allclose(head.T + np.array(q.metadata["head"]["bias"]), logits, atol=1e-4)


def test_quantize_refuses_what_it_cannot_use(tiny_run, int8_model, tmp_path, capsys):
    out = tmp_path / "again.onnx"
    assert main(["quantize", str(int8_model), "--run", str(tiny_run), "--out", str(out)]) == 2
    assert "already quantised" in capsys.readouterr().err and not out.exists()
    foreign = tmp_path / "foreign.onnx"
    proto = onnx.load(str(int8_model))
    del proto.metadata_props[:]
    onnx.save(proto, str(foreign))
    assert main(["quantize", str(foreign), "--run", str(tiny_run), "--out", str(out)]) == 2
    assert "not a braintumor model" in capsys.readouterr().err and not out.exists()
    assert main(["quantize", str(tmp_path / "missing.onnx"), "--run", str(tiny_run), "--out", str(out)]) == 2
    assert "model file not found" in capsys.readouterr().err and not out.exists()
    text = tmp_path / "notes.onnx"
    text.write_text("not a model")
    assert main(["quantize", str(text), "--run", str(tiny_run), "--out", str(out)]) == 2
    assert "not a valid ONNX file" in capsys.readouterr().err and not out.exists()


def test_an_int8_file_cannot_be_read_back_as_a_float_network(int8_model):
    """Ensemble members and torch benchmarks read float weights out of an exported file; int8 ones would be garbage."""
    from braintumor.export import model_from_onnx
    from braintumor.model_files import ModelError

    with pytest.raises(ModelError, match="quantised"):
        model_from_onnx(int8_model)


INT8 = default_model_path().with_name("braintumor-tumornet-s-int8.onnx")


@pytest.mark.skipif(not INT8.exists(), reason="no shipped int8 model")
def test_shipped_int8_model_is_the_quantised_shipped_model():
    q, f = Classifier.load(INT8, threads=1), Classifier.load(threads=1)
    assert q.metadata["quantization"]["calibration_images"] == 5137
    assert q.metadata["data_fingerprint"] == f.metadata["data_fingerprint"]
    assert q.metadata["head"] == f.metadata["head"] and q.ood is not None and INT8.stat().st_size < 2_000_000
    meta = json.loads({p.key: p.value for p in onnx.load(str(INT8)).metadata_props}[METADATA_KEY])
    assert meta["metrics"]["n"] == 1311
    pred = q.predict(encode(synthetic_head()))
    assert isinstance(pred.ood, bool)


@pytest.mark.skipif(not INT8.exists(), reason="no shipped int8 model")
def test_a_bare_model_name_finds_the_shipped_file_from_any_folder(tiny_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Classifier.load(INT8.name, threads=1).path == INT8
    with pytest.raises(FileNotFoundError, match=r"no-such-model\.onnx"):
        Classifier.load("no-such-model.onnx")
    (tmp_path / INT8.name).write_bytes(tiny_model.read_bytes())  # a file of that name here wins
    assert Classifier.load(INT8.name, threads=1).path == Path(INT8.name)
    monkeypatch.setenv("BRAINTUMOR_MODEL", INT8.name)
    (tmp_path / INT8.name).unlink()
    assert Classifier.load(threads=1).path == INT8


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
@pytest.mark.parametrize("command", ["calibrate", "quantize"])
def test_without_torch_calibrate_and_quantize_say_so_before_reading_images(command, tmp_path, monkeypatch, capsys):
    """The shipped model's OOD fit has augmented copies (torch): without torch, calibrate read every training image
    (35 s) and quantize quantised the network (1m43s) before 'torch is not installed'; the docs said no torch."""
    import braintumor.calibrate
    import braintumor.run_split

    def read(*args, **kwargs):
        raise AssertionError("images read before the missing package was named")

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ModuleNotFoundError
    monkeypatch.setattr(braintumor.calibrate, "prepared_run_images", read)  # what calibrate calls
    monkeypatch.setattr(braintumor.run_split, "prepared_run_images", read)  # what quantize imports when it runs
    model = tmp_path / "m.onnx"
    shutil.copy(default_model_path(), model)
    out = ["--out", str(tmp_path / "q.onnx")] if command == "quantize" else []
    assert main([command, str(model), "--run", "models", *out]) == 2
    assert capsys.readouterr().err == "error: torch is not installed; pip install 'braintumor[train]'\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
