"""Wall time for the shipped recipe, trained from scratch, to reach a test accuracy (default 99 %).

    python benchmarks/time_to_accuracy.py [--target 0.99] [--out runs/tta] [-- extra braintumor train flags]

Runs ``braintumor train`` with the shipped recipe (every setting in models/training-config.json;
flags after the known ones override it) in a subprocess, alone on the CPU. After each epoch this
process copies the EMA weights out of ``last.pt`` (a file read, no computation) and notes the wall
time since launch; only when training has finished does it score those snapshots on the Testing
split. So the watcher takes no CPU from the training it times, and the time it reports includes
everything a user waits for: start-up, loading the (cached) images, every epoch and its validation.
The test split is only *watched*: training never sees it and model selection stays on validation.
Takes as long as the whole schedule, plus ~5 s of scoring per epoch up to the first hit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import _common  # noqa: F401  (first: its hook makes a missing torch one line, not a traceback)
import numpy as np
import torch
from _common import machine, print_machine

from braintumor.cli import build_parser
from braintumor.data import DEFAULT_DATA_ROOT, load_dataset
from braintumor.model import create_model
from braintumor.prepared_images import load_prepared
from braintumor.preprocess import INPUT_SCALE
from braintumor.train_config import ABSENT_FROM_OLDER_RUNS, TrainConfig
from braintumor.train_device import pick_autocast_dtype, pick_device

NOT_RECIPE = {"data", "out", "device", "cache_dir", "limit_per_class", "sync_bn", "world_size"}


def recipe_flags(config: dict) -> list[str]:
    """The training config as `braintumor train` flags (--image-size for image_size, ...), asking the
    CLI's own parser which exist; refuses a non-default setting that has no flag."""
    parser, defaults = build_parser(), TrainConfig(data="", out="")
    flags = []
    # a setting newer than the config means what it meant then (the shipped run: a split without duplicate groups)
    for key, value in {**ABSENT_FROM_OLDER_RUNS, **config}.items():
        if key in NOT_RECIPE:
            continue
        name = key.replace("_", "-")
        if isinstance(value, bool):  # switches: --equalize, --no-group-duplicates
            flag = [f"--{name}" if value else f"--no-{name}"]
            known = not parser.parse_known_args(["train", "--out", "-", *flag])[1]
            if value != getattr(defaults, key, value) and known:
                flags += flag
                continue
        flag = [f"--{name}", str(value)]
        if not parser.parse_known_args(["train", "--out", "-", *flag])[1]:
            flags += flag
        elif getattr(defaults, key, value) != value:
            raise SystemExit(f"training config sets {key}={value!r}, which `braintumor train` has no flag for")
    return flags


def snapshot(last: Path, epoch: int) -> dict | None:
    """The EMA weights of `epoch` (1-based) from last.pt; None while last.pt still holds an older one,
    {} if it already holds a newer one (this epoch was missed: polling stalled for a whole epoch)."""
    try:
        ck = torch.load(last, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError):
        return None  # being replaced right now
    if ck["epoch"] + 1 != epoch:
        return None if ck["epoch"] + 1 < epoch else {}
    return {k.removeprefix("module."): v for k, v in ck["ema"].items() if k != "n_averaged"}


def score(state: dict, model_name: str, images: torch.Tensor, labels: np.ndarray) -> float:
    model = create_model(model_name, 4)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(images[i:i + 256]).argmax(1) for i in range(0, len(images), 256)]).numpy()
    return float((pred == labels).mean())


def error_tail(stream, lines: int = 20, limit: int = 8000) -> str:
    """The last ``lines`` lines of the child's stderr (a file: a pipe nobody reads while training runs could fill
    and stall it), so a failed run says why instead of only "rerun the command above"."""
    stream.seek(0, 2)
    stream.seek(max(0, stream.tell() - limit))
    return "\n".join(stream.read().decode("utf-8", "replace").splitlines()[-lines:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA_ROOT, help="dataset root (default: $BRAINTUMOR_DATA or %(default)s)")
    ap.add_argument("--out", default="runs/time-to-accuracy", help="the training run's folder (default %(default)s)")
    ap.add_argument("--target", type=float, default=0.99,
                    help="Testing accuracy to reach, a fraction (default %(default)s)")
    ap.add_argument("--config", default=str(Path(__file__).resolve().parents[1] / "models/training-config.json"),
                    help="recipe to time (default: the shipped model's)")
    ap.add_argument("--all-epochs", action="store_true", help="score every epoch, not only up to the first hit")
    args, overrides = ap.parse_known_args()
    config = json.loads(Path(args.config).read_text())
    out = Path(args.out)
    cmd = [sys.executable, "-m", "braintumor", "train", "--data", args.data, "--out", str(out),
           *recipe_flags(config), *[f for f in overrides if f != "--"]]
    info = machine()
    print("$ " + " ".join(cmd), flush=True)
    amp = pick_autocast_dtype(pick_device(config.get("device", "auto")), config.get("precision", "auto"))
    print(f"autocast on this machine: {amp or 'none (float32)'}", flush=True)  # "auto" differs by CPU
    t0 = time.time()
    with tempfile.TemporaryFile() as errors:  # only read when training fails
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
        rows: list[dict] = []
        snaps: list[tuple[float, dict]] = []  # (wall seconds since launch at the end of the epoch, EMA weights)
        try:
            while True:
                done = proc.poll() is not None
                log = out / "metrics.jsonl"
                lines = log.read_text().splitlines() if log.exists() else []
                while len(snaps) < len(lines):
                    row = json.loads(lines[len(snaps)])
                    state = snapshot(out / "last.pt", row["epoch"])
                    if state is None:
                        break
                    rows.append(row)
                    snaps.append((time.time() - t0, state))
                if done and len(snaps) >= len(lines):
                    break
                time.sleep(1)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
        if proc.returncode:
            print(f"training failed (exit {proc.returncode}); the end of its stderr:\n{error_tail(errors)}")
            return 1

    # Training is over: now score every epoch's EMA weights on Testing, at the recipe's final size.
    test = load_dataset(args.data, "Testing")
    trained = json.loads((out / "config.json").read_text())  # as trained: flags may override the recipe
    fields = TrainConfig.__dataclass_fields__
    pre = TrainConfig(**{k: v for k, v in trained.items() if k in fields}).preprocess_config()
    pre = replace(pre, image_size=rows[-1].get("image_size", pre.image_size))
    prepared, test = load_prepared(test, pre)
    images = torch.from_numpy(prepared).float().mul_(INPUT_SCALE).unsqueeze(1)
    model_name = trained["model"]
    print(f"{'epoch':>5} {'size':>4} {'train min':>9} {'wall min':>8} {'val_ema':>8} {'test (EMA)':>10}")
    train_clock, reached = 0.0, None
    for row, (wall, state) in zip(rows, snaps, strict=True):
        train_clock += row["epoch_seconds"]
        if not state:
            print(f"{row['epoch']:>5} missed (its weights were overwritten before they could be copied)")
            continue
        acc = score(state, model_name, images, test.labels)
        print(f"{row['epoch']:>5} {row.get('image_size', config['image_size']):>4} {train_clock / 60:>9.1f} "
              f"{wall / 60:>8.1f} {row['val_ema_acc']:>8.4f} {acc:>10.4f}", flush=True)
        if reached is None and acc >= args.target:
            reached = (row["epoch"], train_clock, wall)
            if not args.all_epochs:
                break
    print_machine(info)  # now, so its steal figure covers the whole run
    if reached:
        print(f"reached {args.target:.2%} test accuracy at epoch {reached[0]}: {reached[2] / 60:.1f} min after "
              f"launch ({reached[1] / 60:.1f} min in the epochs themselves)")
        return 0
    print(f"did not reach {args.target:.2%} in {len(rows)} epochs ({snaps[-1][0] / 60:.1f} min)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
