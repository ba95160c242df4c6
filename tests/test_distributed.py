"""Data-parallel training under torchrun (2 CPU processes, gloo) against one process.

Exact equality is not expected: each rank augments its own shard with its own generator and
BatchNorm normalises over 4 images per rank instead of 8. What must be identical is the
recipe: the validation split, the number of optimizer steps and the learning-rate schedule.
Losses must agree up to that noise; that the ranks' weights stay identical is checked by the
training itself (distributed.check_in_sync), so a broken gradient sync fails the run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import extra_reason

torch = pytest.importorskip("torch", reason=extra_reason("torch"))

from braintumor import distributed as D  # noqa: E402
from braintumor.cli import main  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"


def flags(epochs: int = 2) -> list[str]:
    return ["--limit-per-class", "8", "--epochs", str(epochs), "--image-size", "64", "--model", "tumornet-xs",
            "--batch-size", "8", "--device", "cpu", "--precision", "fp32"]


def torchrun(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "TORCHELASTIC_ERROR_FILE": str(tmp / "error.json")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "braintumor", "train", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=150)


def metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def steps(run: Path) -> int:
    return torch.load(run / "last.pt", map_location="cpu", weights_only=False)["scheduler"]["last_epoch"]


@pytest.fixture(scope="module")
def single_run(data_root, tmp_path_factory) -> Path:
    """The reference: one process, same flags."""
    tmp = tmp_path_factory.mktemp("single")
    run = tmp / "run"
    rc = main(["train", "--data", str(data_root), "--out", str(run), "--cache-dir", str(tmp / "cache"), *flags()])
    assert rc == 0
    return run


def test_shard_splits_a_global_batch_exactly():
    batch = torch.arange(10, 18)
    parts = [D.shard(batch, D.Dist(r, 2, r)) for r in range(2)]
    assert [len(p) for p in parts] == [4, 4]
    assert sorted(torch.cat(parts).tolist()) == batch.tolist()
    assert D.shard(batch, D.Dist()).tolist() == batch.tolist()


def test_global_batch_must_divide_and_sync_bn_needs_cuda(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "0")
    rc = main(["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "r"), "--batch-size", "8"])
    assert rc == 2 and "divisible by the 3 processes" in capsys.readouterr().err
    monkeypatch.setenv("WORLD_SIZE", "1")
    rc = main(["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "r"), "--sync-bn"])
    assert rc == 2 and "--sync-bn needs several CUDA processes" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_resumed_run_is_checked_with_its_own_batch_size(tmp_path, monkeypatch, capsys):
    """A run of --batch-size 6 resumed by 4 processes was checked against the flag's default (64, divisible by 4)
    and went on; its own 6 must be refused. No torchrun: the group and the broadcast are stood in for."""
    from dataclasses import asdict

    from braintumor.train_config import TrainConfig

    run = tmp_path / "r"
    run.mkdir()
    (run / "last.pt").write_bytes(b"not read: the check comes first")
    cfg = TrainConfig(data=str(tmp_path / "d"), out=str(run), batch_size=6)
    (run / "config.json").write_text(json.dumps({**asdict(cfg), "world_size": 1}))
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setattr(D.dist, "init_process_group", lambda *a, **k: None)
    monkeypatch.setattr(D, "broadcast", lambda obj, d: obj)
    monkeypatch.setattr(D, "finish", lambda d, ok: None)
    rc = main(["train", "--data", str(tmp_path / "d"), "--out", str(run), "--resume"])
    err = capsys.readouterr().err
    assert rc == 2 and err == (f"error: cannot resume {run}: it was trained with --batch-size 6 (its config.json), "
                               "the global batch, which 4 processes cannot share: resume it with a number of processes "
                               "that divides 6\n")


def test_resumed_sync_bn_run_without_cuda_processes_names_the_runs_setting(tmp_path, monkeypatch, capsys):
    """A --sync-bn run resumed by one process was checked against the flag's default (off) and went on; refused, it
    must name the run's own setting, not a --sync-bn the user never typed."""
    from dataclasses import asdict

    from braintumor.train_config import TrainConfig

    run = tmp_path / "r"
    run.mkdir()
    (run / "last.pt").write_bytes(b"not read: the check comes first")
    cfg = TrainConfig(data=str(tmp_path / "d"), out=str(run), sync_bn=True)
    (run / "config.json").write_text(json.dumps({**asdict(cfg), "world_size": 2}))
    rc = main(["train", "--data", str(tmp_path / "d"), "--out", str(run), "--resume"])
    assert (rc, capsys.readouterr().err) == (2, f"error: cannot resume {run}: it was trained with --sync-bn (its "
                                                "config.json), which needs several CUDA processes: resume it under "
                                                "torchrun on GPUs\n")


def test_resumed_run_of_another_device_kind_is_refused_under_torchrun(tmp_path, monkeypatch, capsys):
    """The group joined over the command line's device (gloo on CPU) cannot go on with a run's own --device cuda:
    refused in one line, not switched after the group exists. No torchrun, no GPU: both are stood in for."""
    from dataclasses import asdict

    from braintumor import train, train_device
    from braintumor.train_config import TrainConfig

    run = tmp_path / "r"
    run.mkdir()
    (run / "last.pt").write_bytes(b"not read: the check comes first")
    cfg = TrainConfig(data=str(tmp_path / "d"), out=str(run), batch_size=8, device="cuda")
    (run / "config.json").write_text(json.dumps({**asdict(cfg), "world_size": 2}))
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    for module in (train, train_device):
        monkeypatch.setattr(module, "pick_device",
                            lambda name, run=None: torch.device("cpu" if name == "auto" else name))
    monkeypatch.setattr(D.dist, "init_process_group", lambda *a, **k: None)
    monkeypatch.setattr(D, "broadcast", lambda obj, d: obj)
    monkeypatch.setattr(D, "finish", lambda d, ok: None)
    rc = main(["train", "--data", str(tmp_path / "d"), "--out", str(run), "--resume"])
    assert rc == 2 and capsys.readouterr().err.strip() == (
        f"error: cannot resume {run} on cpu under torchrun: it was trained with --device cuda (its config.json); give "
        "--device cpu to go on there")


def test_torchrun_two_processes_match_one(single_run, data_root, tmp_path):
    run = tmp_path / "ddp"
    proc = torchrun(["--data", str(data_root), "--out", str(run), "--cache-dir", str(tmp_path / "cache"), *flags()],
                    tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 processes, 4 images per process per step" in proc.stderr
    assert proc.stderr.count("done in") == 1  # rank 0 alone logs

    assert sorted(p.name for p in run.iterdir()) == ["best.pt", "config.json", "last.pt", "metrics.jsonl",
                                                     "split.json"]  # no stray temp files
    one, two = metrics(single_run), metrics(run)
    assert [r["epoch"] for r in two] == [1, 2]  # one line per epoch: only rank 0 wrote
    assert json.loads((run / "split.json").read_text()) == json.loads((single_run / "split.json").read_text())
    assert json.loads((run / "config.json").read_text())["world_size"] == 2
    assert steps(run) == steps(single_run) == 8  # 28 train images, global batch 8: 4 steps x 2 epochs
    assert [r["lr"] for r in two] == pytest.approx([r["lr"] for r in one], rel=1e-12)
    for a, b in zip(one, two, strict=True):  # near ln 4 = 1.386 after so few steps; x2 if the sum were wrong
        assert abs(a["train_loss"] - b["train_loss"]) < 0.15
        assert abs(a["val_ema_loss"] - b["val_ema_loss"]) < 0.15


def test_torchrun_resumes_a_run(single_run, data_root, tmp_path):
    run = tmp_path / "resumed"
    shutil.copytree(single_run, run)
    proc = torchrun(["--data", str(data_root), "--out", str(run), "--cache-dir", str(tmp_path / "cache"),
                     *flags(epochs=3), "--resume"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "resuming after epoch 2" in proc.stderr
    rows = metrics(run)
    assert [r["epoch"] for r in rows] == [1, 2, 3] and rows[:2] == metrics(single_run)
    assert steps(run) == 12


RANK_SCRIPT = """
import os, sys, torch
from braintumor import distributed as D
d, device = D.setup(torch.device("cpu"), 2)
model = D.wrap(torch.nn.Linear(3, 2), d, device)  # DDP: the teardown that left gloo's threads running
model(torch.ones(1, 3)).sum().backward()
del model
D.finish(d, ok=True)
names = [open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")]
print(",".join(n for n in names if "gloo" in n))
"""


def test_finish_ends_the_process_groups_threads(tmp_path):
    """DDP's import of torch._dynamo, after the group existed, kept it alive past destroy_process_group(): gloo's
    threads ran into interpreter exit, where a finished rank now and then aborted ('terminate called without an
    active exception', exit code -6). After finish() none of them may be left."""
    if not Path("/proc/self/task").is_dir():
        pytest.skip("needs Linux's /proc to list the threads")
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": "2"}
    procs = [subprocess.Popen([sys.executable, "-c", RANK_SCRIPT], env={**env, "RANK": str(r), "LOCAL_RANK": str(r)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert out.strip() == "", f"gloo threads still running after finish(): {out.strip()}"
