"""The tiny run's ONNX export: one small self-describing file, torch/ONNX parity on every output, and no file left
behind by a failed or interrupted export or metadata write (the run and predict are in tests/test_pipeline.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import extra_reason

from braintumor.model_loading import METADATA_KEY
from braintumor.predictor import Classifier
from braintumor.preprocess import PreprocessConfig, preprocess

torch = pytest.importorskip("torch", reason=extra_reason("torch", what="export"))
onnx = pytest.importorskip("onnx", reason=extra_reason("onnx", what="export"))


def test_export_is_one_small_self_describing_onnx_file(tiny_model):
    assert tiny_model.stat().st_size < 5_000_000
    assert not list(tiny_model.parent.glob("*.data"))  # no external weights file
    proto = onnx.load(str(tiny_model))
    meta = json.loads({p.key: p.value for p in proto.metadata_props}[METADATA_KEY])
    assert meta["classes"] == ["glioma", "meningioma", "notumor", "pituitary"]
    assert meta["preprocess"]["image_size"] == 64
    assert len(meta["data_fingerprint"]) == 64 and meta["model_version"]
    assert [o.name for o in proto.graph.output] == ["logits", "features", "pooled_middle"]
    assert not any(n.metadata_props for n in proto.graph.node)  # no exporter stack traces (build-machine paths)


def test_a_failed_export_leaves_no_file_behind(tiny_run, tmp_path, capsys):
    """Exporting a run whose data has moved failed in its calibration and left the 5 MB .tmp file beside --out."""
    import shutil

    from braintumor.cli import main

    run = tmp_path / "moved"
    shutil.copytree(tiny_run, run)
    split = json.loads((run / "split.json").read_text())
    (run / "split.json").write_text(json.dumps({**split, "root": str(tmp_path / "gone")}))
    (tmp_path / "out").mkdir()
    assert main(["export", str(run), "--out", str(tmp_path / "out" / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'gone'} (as its split.json records it) is not there" in err and "--data ROOT" in err
    assert list((tmp_path / "out").iterdir()) == []
    assert main(["export", str(run), "--out", str(tmp_path / "out" / "m.onnx"), "--data", split["root"]]) == 0


def test_an_exported_file_exported_again_keeps_its_ood_choice(tiny_run, tmp_path):
    """Calibrated with --ood-augment 1, then re-exported: the copy recorded 0 copies and another threshold."""
    from braintumor.cli import main
    from braintumor.predictor import Classifier

    first, again = tmp_path / "a.onnx", tmp_path / "b.onnx"
    assert main(["export", str(tiny_run), "--out", str(first), "--no-calibrate"]) == 0
    assert main(["calibrate", str(first), "--run", str(tiny_run), "--ood-augment", "1"]) == 0
    shutil.copy(tiny_run / "split.json", tmp_path / "split.json")  # the re-export calibrates with the file's run
    assert main(["export", str(first), "--out", str(again)]) == 0
    a, b = Classifier.load(first).metadata["ood"], Classifier.load(again).metadata["ood"]
    assert a["augmented_copies"] == b["augmented_copies"] == 1
    assert b["threshold"] == pytest.approx(a["threshold"], rel=1e-3)


def test_onnx_runtime_matches_torch_on_real_images(tiny_run, tiny_model, test_images):
    from braintumor.export import load_checkpoint

    model, ck, _ = load_checkpoint(tiny_run)
    cfg = PreprocessConfig.from_dict(ck["meta"]["preprocess"])
    batch = np.stack([preprocess(p, cfg) for paths in test_images.values() for p in paths])
    with torch.no_grad():
        want = torch.softmax(model(torch.from_numpy(batch)), 1).numpy()
    got = Classifier.load(tiny_model).predict_proba(batch)
    assert np.abs(got - want).max() < 1e-4


def test_the_export_check_compares_every_output_not_only_the_probabilities(tiny_run, tiny_model):
    """The heat map reads ``features`` and the OOD check ``pooled_middle``: an exported graph that got either wrong
    passed export's own torch comparison, which looked at the softmax of the logits alone."""
    from braintumor.export import _check_parity, _WithFeatures, load_checkpoint

    model, ck, _ = load_checkpoint(tiny_run)
    size = ck["meta"]["preprocess"]["image_size"]
    _check_parity(_WithFeatures(model).eval(), tiny_model, size)  # the file as exported: its outputs agree

    class Off(_WithFeatures):
        def __init__(self, model, which: int) -> None:
            super().__init__(model)
            self.which = which

        def forward(self, x):
            outs = list(super().forward(x))
            outs[self.which] = outs[self.which] + 1e-2
            return tuple(outs)

    for which in (1, 2):  # features, pooled_middle
        with pytest.raises(RuntimeError, match="disagrees with torch"):
            _check_parity(Off(model, which).eval(), tiny_model, size)


def test_a_metadata_write_that_fails_leaves_the_model_as_it_was(tiny_model, tmp_path, monkeypatch):
    """calibrate (and export and quantize through it) left a half-written MODEL.onnx.tmp (export: .tmp.tmp)."""
    import shutil

    import onnx

    from braintumor.calibrate import write_metadata

    model = tmp_path / "m.onnx"
    shutil.copy(tiny_model, model)
    before = model.read_bytes()

    def full_disk(proto, path, **kwargs):
        Path(path).write_bytes(b"half")
        raise OSError(27, "File too large")

    monkeypatch.setattr(onnx, "save_model", full_disk)
    with pytest.raises(OSError, match="File too large"):
        write_metadata(model, {"temperature": 2.0})
    assert model.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_ctrl_c_inside_the_exporter_is_an_interrupt_not_its_traceback(tiny_run, tmp_path, monkeypatch, capsys):
    """torch.onnx.export turned a Ctrl-C into 'TorchExportError: Failed to export the model': a traceback, rc 1."""
    import torch

    from braintumor.cli import main

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("Failed to export the model with torch.export") from exc

    monkeypatch.setattr(torch.onnx, "export", interrupted)
    assert main(["export", str(tiny_run), "--out", str(tmp_path / "m.onnx")]) == 130
    assert capsys.readouterr().err.endswith("interrupted\n") and list(tmp_path.iterdir()) == []
