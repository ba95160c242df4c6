"""A real (tiny) training run -> checkpoint -> ONNX export -> predict (the export's own tests, torch/ONNX parity
among them, are in tests/test_pipeline_export.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import extra_reason

from braintumor.predictor import Classifier

torch = pytest.importorskip("torch", reason=extra_reason("torch"))


def test_training_writes_metrics_split_and_checkpoints(tiny_run):
    rows = [json.loads(line) for line in (tiny_run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and {"train_loss", "val_acc", "val_ema_acc", "lr"} <= rows[0].keys()
    assert (tiny_run / "best.pt").exists() and (tiny_run / "last.pt").exists()
    split = json.loads((tiny_run / "split.json").read_text())
    assert len(split["val"]) == 4 and len(split["fingerprint"]) == 64  # 10 % of 8 per class, >= 1 each


def test_resume_continues_where_it_stopped(tiny_run, data_root, tmp_path, capsys, monkeypatch):
    import errno
    import shutil

    from braintumor.cli import main

    def full_disk(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    run = tmp_path / "resumed"
    shutil.copytree(tiny_run, run)
    # interrupted after epoch 2's row was logged but before its last.pt was written (and mid-way through a row)
    with (run / "metrics.jsonl").open("a") as fh:
        fh.write(json.dumps({"epoch": 2, "val_acc": 0.5}) + '\n{"epoch": 3, "va')
    monkeypatch.setattr(np, "savez", full_disk)  # the cache cannot be written (a full disk): training goes on
    rc = main(["train", "--data", str(data_root), "--out", str(run),
               "--epochs", "2", "--limit-per-class", "8", "--image-size", "64", "--batch-size", "16",
               "--cache-dir", str(tmp_path / "c"), "--resume"])
    assert rc == 0
    err = capsys.readouterr().err
    assert f"warning: decoded images not cached (No space left on device: {tmp_path / 'c'})" in err
    assert re.search(r"^done in \d+\.\d s; best val_ema acc ", err, flags=re.M)  # a run of seconds: "0.0 min"
    epochs = [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2]  # it was [1, 2, 2] after such an interruption
    assert "val_ema_acc" in json.loads((run / "metrics.jsonl").read_text().splitlines()[1])  # the real row
    assert not list(run.glob("*.tmp"))


def test_a_resumed_run_is_not_cut_to_fewer_epochs_than_it_trained(tiny_run, data_root, tmp_path, capsys,
                                                                   monkeypatch):
    """--resume --epochs 1 of a run that had trained 2 trained nothing and rewrote config.json with "epochs": 1, so
    the run (and the model card of its export) named 1 epoch of a log, best.pt and last.pt of 2. Refused in one line,
    the run left as it was, before any image is decoded (it came after the decode: minutes on the real data); a
    finished run resumed says that nothing is left to train."""
    import shutil

    import braintumor.train_data
    from braintumor.cli import main

    decoded = []
    real = braintumor.train_data.load_prepared

    def counting(dataset, *args, **kwargs):
        decoded.append(len(dataset))
        return real(dataset, *args, **kwargs)

    monkeypatch.setattr(braintumor.train_data, "load_prepared", counting)

    run = tmp_path / "two"
    shutil.copytree(tiny_run, run)
    state = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    torch.save({**state, "epoch": 1}, run / "last.pt")  # as if it had trained 2 epochs (0-based in last.pt)
    config = (run / "config.json").read_text()
    args = ["train", "--data", str(data_root), "--out", str(run), "--cache-dir", str(tmp_path / "c"), "--resume"]
    capsys.readouterr()
    assert main([*args, "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.endswith(f"error: cannot resume {run} with --epochs 1: it has trained 2 epochs already; --epochs "
                        "above 2 trains it on\n") and err.count("error") == 1
    assert (run / "config.json").read_text() == config and decoded == []
    assert main([*args, "--epochs", "2"]) == 0 and decoded == [32]
    assert "resuming after epoch 2: all 2 epochs are trained, nothing is left (--epochs above 2 trains on)\n" in \
        capsys.readouterr().err


def test_a_run_started_again_leaves_none_of_the_earlier_runs_checkpoints(tiny_run, data_root, tmp_path, capsys,
                                                                           monkeypatch):
    """--overwrite that stopped before its first checkpoint (diverged, Ctrl-C) left the earlier run's best.pt and
    last.pt beside its own config.json: --resume then continued the earlier run's weights under the new settings, and
    export wrote them with the new run's settings in their card."""
    import math
    import shutil

    from braintumor import train
    from braintumor.cli import main

    run = tmp_path / "again"
    shutil.copytree(tiny_run, run)
    real = train.evaluate_logits
    monkeypatch.setattr(train, "evaluate_logits", lambda *a, **k: real(*a, **k) * math.inf)  # diverges in epoch 1
    args = ["train", "--data", str(data_root), "--out", str(run), "--epochs", "1", "--limit-per-class", "8",
            "--image-size", "64", "--batch-size", "16", "--cache-dir", str(tmp_path / "c")]
    assert main([*args, "--overwrite", "--lr", "1"]) == 2
    assert not {"metrics.jsonl", "best.pt", "last.pt"} & {p.name for p in run.iterdir()}  # (an export may stay)
    capsys.readouterr()
    assert main([*args, "--resume"]) == 2 and "nothing to resume" in capsys.readouterr().err


def test_a_run_started_again_and_stopped_before_its_network_keeps_no_earlier_checkpoint(tiny_run, data_root, tmp_path,
                                                                                      capsys, monkeypatch):
    """--overwrite removed the earlier run's checkpoints only after writing its own config.json and split.json: a
    stop in between (Ctrl-C while the network was built) left the earlier last.pt beside the new settings and split,
    and the hint said to resume it, continuing the earlier weights under them."""
    import shutil

    from braintumor import train
    from braintumor.cli import main

    run = tmp_path / "again"
    shutil.copytree(tiny_run, run)

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "run_network", stopped)  # after config.json and split.json are written
    args = ["train", "--data", str(data_root), "--out", str(run), "--epochs", "1", "--limit-per-class", "8",
            "--image-size", "64", "--batch-size", "16", "--cache-dir", str(tmp_path / "c")]
    assert main([*args, "--overwrite", "--seed", "1"]) == 130
    assert '"seed": 1' in (run / "config.json").read_text()
    assert not {"metrics.jsonl", "best.pt", "last.pt"} & {p.name for p in run.iterdir()}
    assert capsys.readouterr().err.splitlines()[-2:] == ["interrupted", (
        f"no epoch was checkpointed (no last.pt): {run} keeps only config.json, split.json, nothing to resume; run the "
        "same command again to start the run over")]  # not the earlier run's last.pt to resume


def test_a_run_folder_that_holds_a_run_is_not_trained_over(tiny_run, data_root, tmp_path, capsys):
    """A mistyped --out must not replace a finished run's best.pt: --resume continues, --overwrite starts again."""
    import shutil

    from braintumor.cli import main

    run = tmp_path / "done"
    shutil.copytree(tiny_run, run)
    before = (run / "best.pt").read_bytes()
    args = ["train", "--data", str(data_root), "--out", str(run), "--epochs", "1", "--limit-per-class", "8",
            "--image-size", "64", "--batch-size", "16", "--cache-dir", str(tmp_path / "c")]
    capsys.readouterr()
    assert main(args) == 2
    assert capsys.readouterr().err == (f"error: {run} already holds a training run (best.pt): --resume continues it, "
                                       "--overwrite starts it again, or choose another --out\n")
    assert (run / "best.pt").read_bytes() == before and (run / "metrics.jsonl").exists()
    assert main([*args, "--overwrite", "--seed", "1"]) == 0
    assert (run / "best.pt").read_bytes() != before


def test_progressive_resizing_schedule_and_refused_settings():
    from braintumor.train_config import SIZE_STEP, ConfigError, TrainConfig

    cfg = TrainConfig(data="", out="", image_size=160, epochs=100, start_size=96, ramp=0.85)
    sizes = [cfg.size_for_epoch(e) for e in range(100)]
    assert sizes[0] == 96 and sizes[84] == 144 and sizes[85:] == [160] * 15
    assert sizes == sorted(sizes) and {s % SIZE_STEP for s in sizes} == {0}
    assert [sizes.count(s) for s in (96, 112, 128, 144)] == [22, 21, 21, 21]
    assert {TrainConfig(data="", out="", image_size=160).size_for_epoch(e) for e in range(110)} == {160}  # off
    for bad in ({"start_size": 192}, {"start_size": 8}, {"start_size": 96, "ramp": 0.0}, {"ema_decay": 1.0}):
        with pytest.raises(ConfigError):
            TrainConfig(data="", out="", image_size=160, **bad)


def test_progressive_run_trains_small_and_validates_at_full_size(data_root, tmp_path):
    from braintumor.cli import main

    run = tmp_path / "prog"
    rc = main(["train", "--data", str(data_root), "--out", str(run), "--epochs", "2", "--limit-per-class", "8",
               "--image-size", "64", "--batch-size", "16", "--cache-dir", str(tmp_path / "c"),
               "--start-size", "32", "--ramp", "0.5"])
    assert rc == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["image_size"] for r in rows] == [32, 64]
    assert json.loads((run / "config.json").read_text())["start_size"] == 32
    assert torch.load(run / "best.pt", weights_only=False)["meta"]["preprocess"]["image_size"] == 64


def test_class_activation_map_is_exact_for_gap_linear_head(tiny_model, test_images):
    """logits == W . mean(features) + b: the heat map of the web app can rely on it."""
    clf = Classifier.load(tiny_model)
    batch = np.stack([clf.preprocess(p) for p in test_images["glioma"]])
    logits, feats = clf.run(batch)
    weight = np.asarray(clf.metadata["head"]["weight"], dtype=np.float32)  # numpy only, no onnx package
    bias = np.asarray(clf.metadata["head"]["bias"], dtype=np.float32)
    assert weight.shape == (4, feats.shape[1])
    np.testing.assert_allclose(feats.mean(axis=(2, 3)) @ weight.T + bias, logits, atol=1e-4)


def test_predict_round_trip_on_the_tiny_model(tiny_model, test_images):
    clf = Classifier.load(tiny_model)
    pred = clf.predict(test_images["pituitary"][0])
    assert pred.label in clf.classes and abs(sum(pred.probabilities.values()) - 1) < 1e-4
    assert pred.confidence == max(pred.probabilities.values())


def test_accepted_answers_under_the_review_threshold_are_flagged(tiny_classifier):
    from braintumor.prediction import REVIEW_BELOW

    clf = tiny_classifier
    just_under = np.array([REVIEW_BELOW - 0.002, 0.01, 0.001, 0.001])  # (summing to 1)
    sure = np.array([0.997, 0.001, 0.001, 0.001])
    assert clf.prediction_from_probs(just_under).review and not clf.prediction_from_probs(sure).review
    assert clf.prediction_from_probs(just_under).to_dict()["review"] is True
    refused = clf.prediction_from_probs(just_under, 2.0, reason="far")
    assert refused.ood and not refused.review and refused.to_dict()["review"] is False
    # README: flagged "under 99 %" confidence; 99 % itself is not under it
    assert clf.prediction_from_probs(np.array([0.95, 0.03, 0.01, 0.01])).review
    assert not clf.prediction_from_probs(np.array([0.99, 0.005, 0.0025, 0.0025])).review


def test_one_or_several_threads_give_the_same_answers(tiny_model, test_images):
    """Session options differ by thread count (server workers: 1, CLI: several); the numbers must not."""
    import onnxruntime as ort

    from braintumor.sessions import session_options

    assert session_options(1).execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert session_options(2).execution_mode == ort.ExecutionMode.ORT_PARALLEL
    one, two = Classifier.load(tiny_model, threads=1), Classifier.load(tiny_model, threads=2)
    x = np.stack([one.preprocess(p) for paths in test_images.values() for p in paths[:2]])
    a, b = one.run_all(x), two.run_all(x)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_a_run_can_hold_out_one_storage_mode(data_root, tmp_path):
    """--hold-out-mode L: no grayscale-stored (figshare) image is trained or validated on, and the run says so."""
    from pathlib import Path

    from PIL import Image

    from braintumor.cli import main

    run = tmp_path / "noL"
    rc = main(["train", "--data", str(data_root), "--out", str(run), "--epochs", "1", "--limit-per-class", "8",
               "--image-size", "64", "--batch-size", "16", "--cache-dir", str(tmp_path / "c"), "--hold-out-mode", "L"])
    assert rc == 0
    split = json.loads((run / "split.json").read_text())
    used = split["train"] + split["val"]
    root = Path(split["root"])
    assert 0 < len(used) < 32 and all(Image.open(root / r).mode != "L" for r in used)
    assert json.loads((run / "config.json").read_text())["hold_out_mode"] == "L"


def test_a_checkpoint_that_cannot_be_written_is_one_error_and_no_partial_file(tmp_path, monkeypatch):
    """A full disk: torch raised RuntimeError ('unexpected pos'), a traceback, and left a 10 MB last.pt.tmp."""
    import torch

    from braintumor.checkpoints import save_checkpoint

    def full_disk(obj, path):
        Path(path).write_bytes(b"half")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 10185344 vs 10185236")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError) as raised:
        save_checkpoint({"epoch": 1}, tmp_path / "last.pt")
    assert (raised.value.strerror, raised.value.filename) == (
        "cannot write a checkpoint (disk full, or a file size limit?)", str(tmp_path / "last.pt"))
    assert list(tmp_path.iterdir()) == []

    def interrupted(obj, path):
        Path(path).write_bytes(b"half")
        raise KeyboardInterrupt  # Ctrl-C or SIGTERM mid-write: the 200 MB last.pt.tmp stayed

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"epoch": 1}, tmp_path / "last.pt")
    assert list(tmp_path.iterdir()) == []
