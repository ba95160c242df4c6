"""Export a training checkpoint to one self-describing ONNX file (needs the ``[train]`` extra).

The graph has one input, ``image`` (N, 1, S, S) float32 in [0, 1], and three outputs:
``logits`` (N, K), ``features`` (N, C, h, w), the last feature maps, so the serving side
can draw exact class-activation maps without torch, and ``pooled_middle`` (N, C_mid) for the
out-of-distribution detector. Everything a predictor needs to use the
file correctly (classes, preprocessing parameters, temperature, provenance, test metrics)
is stored as JSON under the ``braintumor`` metadata key.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from . import __version__
from .atomic_files import require_file_destination, written_whole
from .classes import DISPLAY_NAMES
from .embedded_metrics import headline_metrics, read_metrics_file
from .file_names import utf8_document
from .model import create_model
from .model_files import DEV_VERSION, ModelError, version_problem
from .model_loading import METADATA_KEY
from .preprocess import trained_preprocess
from .quiet_libraries import quiet_this_thread
from .resume_state import other_best_in_run, read_training_state
from .run_config import read_run_config
from .stop_signals import stop_in
from .wording import printable


class _WithFeatures(nn.Module):
    """Logits, the last feature maps (what the CAM needs) and the pooled middle-stage features
    (what the OOD detector needs), in one pass."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        feats, middle = self.model.forward_with_middle(x)
        return self.model.fc(feats.mean(dim=(2, 3))), feats, middle


def model_from_onnx(path: str | os.PathLike) -> tuple[nn.Module, dict, dict]:
    """(model in eval mode, checkpoint-like dict, run config) read back from an exported float ONNX file.

    Why: a shipped file outlives its run folder; this makes it usable as an ensemble member (``braintumor
    export models/braintumor-tumornet-s.onnx RUN_DIR``) and as torch's weights in benchmarks. Each
    BatchNorm was folded into its convolution at export: the convolution gets the folded weight and the
    BatchNorm becomes the identity plus the folded bias, so the outputs are the exported file's (to ~1e-6)."""
    from onnx import numpy_helper

    from .model_files import ModelError
    from .predictor import Classifier

    path = Path(path)
    meta = Classifier.load(path, threads=1).metadata
    if "quantization" in meta:
        raise ModelError(f"{path} is quantised: its int8 weights cannot be read back into a float network")
    init = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    k = len(meta["classes"])
    if "ensemble" in meta:  # members' weights under model.members.<i>. (braintumor.ensemble)
        from .ensemble import Ensemble

        model: nn.Module = Ensemble([create_model(m["model_name"], k) for m in meta["ensemble"]])
    else:
        model = create_model(meta["model_name"], k)
    state = model.state_dict()
    for key in list(state):
        name = f"model.{key}"
        if name in init:  # conv weights (BN folded in), fc weight and bias
            state[key] = torch.from_numpy(init[name].copy())
            bias = f"{name}_bias"
            bn = key.replace("conv", "bn").replace("stem.0", "stem.1").replace("shortcut.0", "shortcut.1")
            if bias in init and bn != key:  # the BN after this conv becomes identity + the folded bias
                state[bn] = torch.ones_like(state[bn])
                state[bn.replace("weight", "bias")] = torch.from_numpy(init[bias].copy())
                state[bn.replace("weight", "running_mean")].zero_()
                state[bn.replace("weight", "running_var")].fill_(1.0 - 1e-5)  # BatchNorm2d's eps
    model.load_state_dict(state)
    training = meta.get("training", {})
    ck_meta = {key: meta[key] for key in ("classes", "model_name", "preprocess", "data_fingerprint",
                                          "package_version", "num_parameters") if key in meta}
    ck_meta.update({key: training[key] for key in ("train_images", "val_images") if key in training})
    ck = {"model": state, "meta": ck_meta, "epoch": training.get("best_epoch"), "val_acc": training.get("val_accuracy"),
          "ood": meta.get("ood", {}),  # what its calibration chose, which an export of it keeps
          "trained_preprocess": trained_preprocess(meta).to_dict()}  # what an ensemble's members must share
    return model.eval(), ck, dict(training.get("config", {}))


def load_checkpoint(run: str | os.PathLike) -> tuple[nn.Module, dict, dict]:
    """(model in eval mode, checkpoint dict, run config) from RUN_DIR, a best.pt path, or an exported
    float ONNX file (:func:`model_from_onnx`)."""
    path = Path(run)
    if path.suffix == ".onnx":
        return model_from_onnx(path)
    ck_path = path / "best.pt" if path.is_dir() else path
    if not ck_path.is_file():
        raise FileNotFoundError(f"no checkpoint at {ck_path} (train first: braintumor train --out RUN_DIR)")
    try:
        ck = torch.load(ck_path, map_location="cpu", weights_only=False)
    except Exception:  # torch raises several types for a cut or foreign file: said in words, not by their class
        todo = "this one again (--overwrite, or remove it and --resume with more --epochs: the best epoch from " \
            "there on becomes it)" if (ck_path.parent / "last.pt").is_file() else "one again"  # it said no way on
        raise ModelError(f"cannot read the checkpoint {ck_path}: corrupt or truncated, or not a PyTorch checkpoint; "
                         f"copy it again from where it was trained, export another run, or train {todo}") from None
    if not isinstance(ck, dict) or "meta" not in ck:  # e.g. last.pt: the training state, for --resume
        if path.is_dir():  # the run folder was exported: "export the run folder" told to do what was done
            raise ModelError(f"cannot export {path}: its best.pt is not the best.pt 'braintumor train' writes (a "
                             "last.pt copied over it?); train it again (--overwrite), or remove it and --resume with "
                             "more --epochs")
        raise ModelError(f"{ck_path} is not a best.pt of 'braintumor train': export the run folder (or its best.pt)")
    meta = ck["meta"]
    try:  # edited, or saved by another version: fifty lines of torch's 'size mismatch' traceback
        model = create_model(meta["model_name"], len(meta["classes"]))
        model.load_state_dict(ck["model"])
    except (KeyError, TypeError, ValueError, RuntimeError):
        net, names = (meta.get("model_name"), meta.get("classes")) if isinstance(meta, dict) else (None, None)
        if not (isinstance(net, str) and isinstance(names, list)):  # was len(None)'s TypeError, or "(None, ...)"
            raise ModelError(f"cannot read the checkpoint {ck_path}: its metadata names no network or no class list "
                             "(hand-edited, or another tool's?)") from None
        raise ModelError(f"cannot read the checkpoint {ck_path}: its weights are not those of the network it names "
                         f"({net}, {len(names)} classes)") from None
    model.eval()
    run_dir = ck_path.parent
    config = read_run_config(run_dir)
    state = read_training_state(run_dir / "last.pt") if (run_dir / "last.pt").is_file() else None
    if what := other_best_in_run(ck, run_dir, config, state if isinstance(state, dict) else None):
        # another run's best.pt copied in: its weights and preprocessing were shipped beside this run's config.json
        raise ModelError(f"cannot export {run_dir}: its {ck_path.name} {what} (another run's best.pt copied "
                         "into it?); export the run it was trained in, or train this one again (--overwrite, or "
                         "remove it and --resume with more --epochs)")
    if isinstance(state, str):  # a damaged last.pt was passed over, and another run's older best.pt shipped
        raise ModelError(f"cannot export {run_dir}: its last.pt {state}, and only the best score it records tells "
                         f"this run's {ck_path.name} from another run's; copy the run folder again, or remove last.pt "
                         "(nothing resumes from it) to export best.pt checked against config.json and split.json alone")
    return model, ck, config


def training_metadata(ck: dict, config: dict) -> dict:
    """The run that trained the network, as its exported file records it (and as a --metrics file must match)."""
    meta = ck["meta"]
    return {"best_epoch": ck.get("epoch"), "val_accuracy": ck.get("val_acc"), "train_images": meta.get("train_images"),
            "val_images": meta.get("val_images"),
            "config": {k: v for k, v in config.items() if k not in ("data", "out", "cache_dir")},
            "torch_version": torch.__version__}


def build_metadata(ck: dict, config: dict, metrics: dict | None, model_version: str) -> dict:
    """Everything a predictor needs, as JSON. The linear head's weights are included so that
    class-activation maps can be computed from the ``features`` output with numpy alone."""
    meta = ck["meta"]
    size = meta["preprocess"]["image_size"]
    info = {
        "format": 1,
        "name": f"braintumor-{meta['model_name']}",
        "model_name": meta["model_name"],
        "model_version": model_version,
        "package_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "classes": meta["classes"],
        "display_names": {c: DISPLAY_NAMES.get(c, c) for c in meta["classes"]},
        "input": {"name": "image", "shape": ["N", 1, size, size], "dtype": "float32", "range": [0, 1],
                  "note": "per-image standardisation happens inside the graph"},
        "outputs": {"logits": ["N", len(meta["classes"])], "features": "last feature maps for CAM",
                    "pooled_middle": "pooled middle-stage features for the OOD detector"},
        "preprocess": meta["preprocess"],
        "temperature": 1.0,
        "num_parameters": meta["num_parameters"],
        "head": {"weight": ck["model"]["fc.weight"].float().tolist(), "bias": ck["model"]["fc.bias"].float().tolist(),
                 "note": "logits = weight @ mean_hw(features) + bias; CAM_k = weight[k] @ features"},
        "data_fingerprint": meta["data_fingerprint"],
        **({"ensemble": meta["ensemble"]} if "ensemble" in meta else {}),
        "training": training_metadata(ck, config),
    }
    if metrics:
        info["metrics"] = headline_metrics(metrics)
    return info



def export_onnx(run: str | os.PathLike | Sequence[str | os.PathLike], out: str | os.PathLike,
                metrics_file: str | os.PathLike | None = None, model_version: str = DEV_VERSION, opset: int = 18,
                calibrate: bool = True, data: str | os.PathLike | None = None) -> Path:
    """Write the ONNX file, check it against torch on random inputs, and return its path (``out``'s folder must
    exist, as for the CLI's ``--out``).

    Several runs give one ensemble network (:mod:`braintumor.ensemble`). With ``calibrate`` (and the
    run's split.json), the temperature and OOD statistics are fitted on the run's training/validation
    images and stored too (see :mod:`braintumor.calibrate`).
    """
    problem = version_problem(model_version)  # before the minutes of export, as the CLI's --model-version does
    if problem:
        raise ValueError(f"model_version: {problem}")
    require_file_destination(out)  # no folder made, as for the CLI's --out: a mistyped path is said, before any work
    runs = [run] if isinstance(run, (str, os.PathLike)) else list(run)
    if len(runs) > 1:
        from .ensemble import load_ensemble

        model, ck, config = load_ensemble(runs)
    else:
        model, ck, config = load_checkpoint(runs[0])
    run = runs[0]
    metrics = read_metrics_file(metrics_file, {**ck["meta"], "training": training_metadata(ck, config)}) \
        if metrics_file else None
    size = ck["meta"]["preprocess"]["image_size"]
    wrapper = _WithFeatures(model).eval()
    example = torch.rand(2, 1, size, size)
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # e.g. "torchvision is not installed"
    with quiet_this_thread():  # not catch_warnings: that swapped every thread's filters (serving's, a caller's)
        try:
            program = torch.onnx.export(
                wrapper, (example,), input_names=["image"], output_names=["logits", "features", "pooled_middle"],
                dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=4096)}},
                opset_version=opset, dynamo=True, verbose=False,
            )
        except Exception as exc:  # Ctrl-C or SIGTERM inside the exporter arrive wrapped in its own error
            interrupt = stop_in(exc)
            if interrupt is not None:
                raise interrupt from None
            raise
    proto = program.model_proto
    proto.doc_string = "braintumor: brain MRI slice classifier (glioma, meningioma, notumor, pituitary)"
    info = build_metadata(ck, config, metrics, model_version)
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(utf8_document(info), sort_keys=True)  # a --teacher path
    for node in proto.graph.node:  # torch's exporter records each node's Python stack trace: the build machine's
        del node.metadata_props[:]  # file paths, 36 kB of the shipped file, nothing the model needs
    out = Path(out)
    split = (Path(run) if Path(run).is_dir() else Path(run).parent) / "split.json"
    # a failed export leaves neither a half-written model nor its temporary file (it was left, 5 MB, when the data
    # had moved); /dev/null stays
    with written_whole(out) as tmp:
        onnx.save_model(proto, str(tmp), save_as_external_data=False)
        onnx.checker.check_model(str(tmp))
        _check_parity(wrapper, tmp, size)
        if calibrate and split.exists():
            from .calibrate import calibrate as fit

            chosen = ck.get("ood", {})  # an exported file exported again keeps its calibration's choices
            fit(tmp, split.parent, data, ood_augment=chosen.get("augmented_copies"),
                ood_framing=chosen.get("framing_copies"))
    if calibrate and not split.exists():  # a best.pt copied out of its run: served, it would refuse nothing
        print(printable(f"note: no split.json in {split.parent}: {out} is not calibrated (no temperature, no "
                        "out-of-distribution check); 'braintumor calibrate MODEL --run RUN_DIR' fits them on the "
                        "run's own split"), file=sys.stderr)
    return out


def _check_parity(wrapper: nn.Module, path: Path, size: int, tol: float = 1e-4) -> None:
    """The file's three outputs against torch's on random inputs: the probabilities, and the feature maps the heat map
    and the out-of-distribution check read (relative to their largest value)."""
    import onnxruntime as ort

    x = torch.rand(3, 1, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = [t.numpy() for t in wrapper(x)]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(["logits", "features", "pooled_middle"], {"image": x.numpy()})
    want[0], got[0] = (torch.softmax(torch.from_numpy(t), 1).numpy() for t in (want[0], got[0]))
    for name, a, b in zip(("probabilities", "features", "pooled_middle"), want, got, strict=True):
        diff = float(np.abs(a - b).max()) / max(1.0, float(np.abs(a).max()))
        if diff >= tol:
            raise RuntimeError(f"exported model disagrees with torch ({name}: max |diff| {diff:.2e} >= {tol})")
