"""Wall time for the shipped recipe, trained from scratch, to reach a test accuracy (default 99 %).

    python benchmarks/time_to_accuracy.py [--target 0.99] [--out runs/tta] [-- extra braintumor train flags]

Runs ``braintumor train`` (the shipped recipe, from models/training-config.json, unless flags say
otherwise) in a subprocess and, after
every epoch, scores the EMA weights of ``last.pt`` on the Testing split in this process. The test
split is only *watched* here, to time the recipe; training never sees it and model selection stays
on validation. The reported time is the training's own clock (sum of its epoch times), so the
watcher's scoring is not counted; total wall time is printed beside it. Takes as long as training.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from braintumor.data import DEFAULT_DATA_ROOT, load_dataset, load_prepared
from braintumor.model import create_model
from braintumor.preprocess import INPUT_SCALE, PreprocessConfig


def _score(last: Path, model_name: str, images: torch.Tensor, labels: np.ndarray) -> float | None:
    try:
        ck = torch.load(last, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError):
        return None  # being replaced right now; try again next poll
    state = {k.removeprefix("module."): v for k, v in ck["ema"].items() if k != "n_averaged"}
    model = create_model(model_name, 4)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(images[i:i + 256]).argmax(1) for i in range(0, len(images), 256)]).numpy()
    return float((pred == labels).mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA_ROOT)
    ap.add_argument("--out", default="runs/time-to-accuracy")
    ap.add_argument("--target", type=float, default=0.99)
    ap.add_argument("--model", default="tumornet-s")
    shipped = json.loads((Path(__file__).resolve().parents[1] / "models/training-config.json").read_text())
    ap.add_argument("--image-size", type=int, default=shipped["image_size"])
    ap.add_argument("--epochs", type=int, default=shipped["epochs"], help="schedule length (shipped recipe's)")
    ap.add_argument("--keep-going", action="store_true", help="train to the end after reaching the target")
    args, train_flags = ap.parse_known_args()
    train_flags = [f for f in train_flags if f != "--"]
    torch.set_num_threads(1)  # leave the cores to the training
    test = load_dataset(args.data, "Testing")
    prepared, test = load_prepared(test, PreprocessConfig(image_size=args.image_size))
    images = torch.from_numpy(prepared).float().mul_(INPUT_SCALE).unsqueeze(1)
    out = Path(args.out)
    cmd = [sys.executable, "-m", "braintumor", "train", "--data", args.data, "--out", str(out), "--model", args.model,
           "--image-size", str(args.image_size), "--epochs", str(args.epochs), *train_flags]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen, train_clock, reached = 0, 0.0, None
    print(f"{'epoch':>5} {'train min':>9} {'wall min':>8} {'val_ema':>8} {'test (EMA)':>10}", flush=True)
    try:
        while True:
            done = proc.poll() is not None
            log = out / "metrics.jsonl"
            rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
            for row in rows[seen:]:
                train_clock += row["epoch_seconds"]
                acc = _score(out / "last.pt", args.model, images, test.labels)
                print(f"{row['epoch']:>5} {train_clock / 60:>9.1f} {(time.time() - t0) / 60:>8.1f} "
                      f"{row['val_ema_acc']:>8.4f} {acc if acc is not None else float('nan'):>10.4f}", flush=True)
                if reached is None and acc is not None and acc >= args.target:
                    reached = (row["epoch"], train_clock)
            seen = len(rows)
            if done or (reached and not args.keep_going):
                break
            time.sleep(2)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait()
    if reached:
        print(f"reached {args.target:.2%} test accuracy at epoch {reached[0]} after {reached[1] / 60:.1f} min "
              f"of training ({(time.time() - t0) / 60:.1f} min wall including data loading and scoring)")
        return 0
    print(f"did not reach {args.target:.2%} ({seen} epochs, {train_clock / 60:.1f} min of training)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
