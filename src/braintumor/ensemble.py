"""Several trained networks exported as one (needs the ``[train]`` extra, like export).

Members are averaged in logit space. Their last feature maps are concatenated along channels and
their linear heads side by side (each divided by the member count), so the ensemble is again
"feature maps -> global average pool -> one linear layer": the ONNX file has the same three outputs
and the same ``head`` metadata as a single network, and every consumer (class-activation maps, the
out-of-distribution detector, calibration) works unchanged. The CAM of the ensemble is the mean of
the members' CAMs, exactly.

Members must share the classes, the preprocessing, the data and the validation split: a member
validated on images another member trained on would make the ensemble's validation score a lie.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from .preprocess import PreprocessConfig
from .run_split import read_split
from .train_config import ConfigError


class Ensemble(nn.Module):
    """Logit average of ``members`` (each with ``forward_with_middle`` and ``fc``), as one network."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        self.members = nn.ModuleList(members)
        weight = torch.cat([m.fc.weight.detach() for m in members], dim=1) / len(members)
        bias = torch.stack([m.fc.bias.detach() for m in members]).mean(dim=0)
        self.fc = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.fc.weight.copy_(weight)
            self.fc.bias.copy_(bias)

    def forward_with_middle(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outs = [m.forward_with_middle(x) for m in self.members]
        return torch.cat([f for f, _ in outs], dim=1), torch.cat([mid for _, mid in outs], dim=1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m.forward_features(x) for m in self.members], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.forward_features(x).mean(dim=(2, 3)))


def ensemble_name(member_names: Sequence[str]) -> str:
    """``tumornet-xs-x3`` for three tumornet-xs members, ``tumornet-s+tumornet-xs`` for a mix."""
    if len(set(member_names)) == 1:
        return f"{member_names[0]}-x{len(member_names)}"
    return "+".join(member_names)


def _val_list(run: Path) -> list[str] | None:
    return read_split(run)["val"] if (run / "split.json").exists() else None  # cut short: one error line


def _trained_preprocess(ck: dict) -> PreprocessConfig:
    """What a member was trained on: a checkpoint's own preprocessing, or an exported file's as trained."""
    return PreprocessConfig.from_dict(ck.get("trained_preprocess") or ck["meta"]["preprocess"])


def load_ensemble(runs: Sequence[str | os.PathLike]) -> tuple[Ensemble, dict, dict]:
    """(ensemble in eval mode, checkpoint-like dict, first member's run config) from run folders.

    Raises ``ConfigError`` when the members do not share classes, preprocessing, data or split."""
    from .export import load_checkpoint

    files = [(Path(r) / "best.pt" if Path(r).is_dir() else Path(r)).resolve() for r in runs]
    twice = next((r for r, f in zip(runs, files, strict=True) if files.count(f) > 1), None)
    if twice is not None:  # `export RUN RUN` (a repeated glob) wrote a 2-member ensemble of one network, twice its size
        raise ConfigError(f"ensemble member {twice} is given twice: choose different runs")
    loaded = [load_checkpoint(r) for r in runs]
    dirs = [Path(r) if Path(r).is_dir() else Path(r).parent for r in runs]
    first = loaded[0][1]["meta"]
    for key in ("classes", "preprocess", "data_fingerprint"):
        for run, (_, ck, _) in zip(runs, loaded, strict=True):
            if key == "preprocess":  # as trained (an exported member may be served with more: calibrate), by value
                a, b = (_trained_preprocess(c).to_dict() for c in (loaded[0][1], ck))
                if a != b:
                    raise ConfigError(f"ensemble members differ in preprocess ("
                                      f"{', '.join(f'{k} {a[k]} vs {b[k]}' for k in a if a[k] != b[k])}): "
                                      f"{runs[0]} vs {run}")
            elif key == "data_fingerprint" and ck["meta"][key] != first[key]:  # the name said nothing of what to do
                raise ConfigError(f"ensemble members were trained on different images: {runs[0]} vs {run} (their "
                                  "data fingerprints differ); train them on the same data (--data, --limit-per-class, "
                                  "--hold-out-mode) with the same --split-seed")
            elif ck["meta"][key] != first[key]:
                raise ConfigError(f"ensemble members differ in {key}: {runs[0]} vs {run}")
    first = {**first, "preprocess": _trained_preprocess(loaded[0][1]).to_dict()}  # serving's choice: calibrate's
    vals = [_val_list(d) for d in dirs]
    if any(v != vals[0] for v in vals):
        raise ConfigError("ensemble members were validated on different splits (train them with the same "
                         "--split-seed); their ensemble could not be validated honestly")
    ens = Ensemble([m for m, _, _ in loaded]).eval()
    names = [ck["meta"]["model_name"] for _, ck, _ in loaded]
    meta = {**first, "model_name": ensemble_name(names),
            "num_parameters": sum(ck["meta"]["num_parameters"] for _, ck, _ in loaded),
            "ensemble": [{"run": d.name, "model_name": ck["meta"]["model_name"], "seed": cfg.get("seed"),
                          "best_epoch": ck.get("epoch"), "val_accuracy": ck.get("val_acc")}
                         for d, (_, ck, cfg) in zip(dirs, loaded, strict=True)]}
    ck = {"meta": meta, "model": {"fc.weight": ens.fc.weight.detach(), "fc.bias": ens.fc.bias.detach()}}
    return ens, ck, loaded[0][2]
