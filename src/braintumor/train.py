"""Training: the whole loop on one page (its images listed, decoded and split: :mod:`braintumor.train_data`). Needs
the ``[train]`` extra (torch).

RUN_DIR receives config.json, split.json, metrics.jsonl (one line per epoch),
last.pt (for --resume) and best.pt (best validation accuracy of the EMA weights).
Under ``torchrun`` the same loop runs data-parallel (see distributed.py); rank 0 alone
logs, evaluates and writes RUN_DIR.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from . import __version__
from . import distributed as D
from .atomic_files import make_folder
from .augment import augment
from .augment_mixing import cutmix, mixstyle, mixup
from .checkpoints import (
    check_finite,
    check_validation_losses,
    keep_epochs_through,
    pinned_settings,
    run_network,
    save_checkpoint,
    split_document,
)
from .cpu_quota import default_threads
from .data import load_dataset
from .distill import Teacher, distillation_loss
from .file_names import utf8_document
from .model import MODELS, count_parameters
from .preprocess import INPUT_SCALE
from .report import write_text_atomic
from .resume_state import restore_training_state, resume_run
from .train_config import ConfigError, TrainConfig, augment_off_items, resumed_config
from .train_data import training_data
from .train_device import (  # tests patch train.evaluate_logits
    evaluate_logits,
    pick_autocast_dtype,
    pick_device,
    resumed_device,
)
from .wording import counted, duration_text, printable


def add_mixstyle(model: torch.nn.Module, g: torch.Generator, p: float, stages: int = 3) -> None:
    """MixStyle (augment_mixing.mixstyle) on the outputs of the first ``stages`` stages, in training mode only (as in
    the paper, not after the last stage, whose statistics carry the class). Forward hooks: the network, its state dict
    and its exported graph stay as they are."""
    for i in model.stage_ends[:stages]:
        model.features[i].register_forward_hook(
            lambda module, _inputs, out: mixstyle(out, g, p) if module.training else out)


def train(cfg: TrainConfig, resume: bool = False, overwrite: bool = False, typed: frozenset[str] | None = None) -> Path:
    """Train, checkpointing every epoch; returns the path of best.pt. Data-parallel under torchrun.

    A run folder that already holds checkpoints is continued only with ``resume`` and started again only with
    ``overwrite``: a mistyped ``--out`` must not replace a finished run's best.pt after one epoch."""
    # resumed: the run's own --batch-size and --sync-bn are checked once read (the flags' defaults said nothing)
    dd, device = D.setup(pick_device(cfg.device), None if resume else cfg.batch_size, cfg.sync_bn)
    ok = False
    try:
        out = Path(cfg.out)
        taken = dd.is_main and not (resume or overwrite) and any((out / n).exists() for n in ("best.pt", "last.pt"))
        # a run stopped between its first best.pt and last.pt has nothing to resume: --resume was advised, and refused
        go_on = "--resume continues it" if taken and (out / "last.pt").is_file() else "no last.pt to resume from"
        if said := D.broadcast(go_on if taken else None, dd):  # every rank stops, not only the one that looked
            raise ConfigError(f"{out} already holds a training run (best.pt): {said}, --overwrite starts it again, or "
                              "choose another --out")
        if resume:  # the run's own settings, read by rank 0 (RUN_DIR need not be shared) and sent to every rank
            found = D.broadcast(resumed_config(cfg, reason=True, typed=typed) if dd.is_main else None, dd)
            if isinstance(found, str):  # every rank stops with rank 0's reason
                raise ConfigError(found)
            own = found.device != cfg.device or (typed is not None and "device" not in typed)  # config.json's
            cfg = found
            D.check_settings(dd, device, cfg.batch_size, cfg.sync_bn, str(cfg.out))  # every rank: the same answer
            device = resumed_device(cfg, dd, device, own)
        best_pt = _train(cfg, resume, dd, device)
        ok = True
        return best_pt
    finally:
        D.finish(dd, ok)


def _train(cfg: TrainConfig, resume: bool, dd: D.Dist, device: torch.device) -> Path:
    main = dd.is_main  # rank 0 (or the only process): logs, evaluates, writes RUN_DIR
    out = Path(cfg.out)
    if cfg.model not in MODELS:  # before the folder, the split and every image's decode
        raise ConfigError(f"unknown --model '{cfg.model}'; choose from {', '.join(MODELS)}")
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    amp = pick_autocast_dtype(device, cfg.precision)
    if device.type == "cpu":
        torch.set_num_threads(default_threads(at_most=torch.get_num_threads()))  # torch's ignore a CPU quota

    pre = cfg.preprocess_config()
    # last.pt and the best.pt beside it before the data: a cut file or --epochs below its own was said after the decode
    ck = resume_run(cfg, pre.to_dict()) if main and resume and (out / "last.pt").exists() else None
    if isinstance(ck := D.broadcast(ck, dd), str):  # only rank 0 reads RUN_DIR; every rank stops with its reason
        raise ConfigError(ck)
    full = load_dataset(cfg.data, "Training")
    # the teacher's own checks (its classes, inputs) before the decode: a mismatch was said after it (minutes)
    teacher = Teacher(cfg.teacher, full.classes, pre, threads=torch.get_num_threads()) if cfg.teacher else None
    full, images_np, tr_idx, va_idx, data_fp = training_data(cfg, full, pre, dd, resume)  # decoded, checked, split
    images = torch.from_numpy(images_np)
    labels = torch.from_numpy(full.labels)
    x_tr, y_tr, x_va, y_va = images[tr_idx], labels[tr_idx], images[va_idx], labels[va_idx]
    # before the run's folder: a bad dataset, split, teacher or last.pt leaves nothing behind
    if main:
        make_folder(out)  # named as predict names it (atomic_files)
        if ck is None:  # started again (--overwrite): a run stopped before its first checkpoint left the earlier run's
            for stale in ("metrics.jsonl", "best.pt", "last.pt"):  # beside this config.json, and --resume continued
                (out / stale).unlink(missing_ok=True)  # them; before config.json: never the new one beside them
        # whole or not at all: rewritten on every start and resume, a file cut short made the run unresumable
        # names as UTF-8 whatever the locale (file_names.utf8_document); run_split.read_split reads them back
        write_text_atomic(out / "config.json", json.dumps(utf8_document({**asdict(cfg), "world_size": dd.world_size}),
                                                          indent=2))
        write_text_atomic(out / "split.json", json.dumps(utf8_document(split_document(full, tr_idx, va_idx, data_fp)),
                                                         indent=1))

    model = run_network(cfg.model, full.classes)
    if cfg.sync_bn:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = model.to(device).to(memory_format=torch.channels_last)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
    ddp_model = D.wrap(model, dd, device)  # what the loop calls; `model` keeps the weights, unprefixed
    decay = [p for p in model.parameters() if p.ndim > 1]  # weights; biases and norms are not decayed
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    steps_per_epoch = math.ceil(len(x_tr) / cfg.batch_size)  # global batch: the same for any world size
    total_steps = cfg.epochs * steps_per_epoch
    warm = max(1, int(cfg.warmup * total_steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, 0.5 * (1 + math.cos(
        math.pi * min(1.0, max(0, s - warm) / max(1, total_steps - warm))))))
    scaler = torch.amp.GradScaler(enabled=device.type == "cuda" and amp == torch.float16)
    gen = torch.Generator().manual_seed(cfg.seed)  # epoch order: identical on every rank
    # One process: the same generator augments (bit-for-bit the recipe of the shipped model).
    # N processes: each rank augments its own shard, reseeded per (seed, rank, epoch) so resume is exact.
    aug_gen = gen if not dd.enabled else torch.Generator()
    augment_off = augment_off_items(cfg.augment_off)
    mix, mix_alpha = (mixup, cfg.mixup) if cfg.mixup else (cutmix, cfg.cutmix)  # at most one is set (TrainConfig)
    if cfg.mixstyle:  # after the EMA copy, so the averaged (validated, exported) network never carries the hooks
        add_mixstyle(model, aug_gen, cfg.mixstyle)
    start_epoch, best = 0, (-1.0, 0.0)

    if ck is not None:
        start_epoch, best = restore_training_state(ck, model, ema, opt, sched, gen, scaler)
        if main:
            print(f"resuming after epoch {start_epoch}" + (f": all {cfg.epochs} epochs are trained, nothing is left "
                  f"(--epochs above {cfg.epochs} trains on)" if start_epoch == cfg.epochs else ""), file=sys.stderr)
            keep_epochs_through(out / "metrics.jsonl", start_epoch)  # a row whose checkpoint was never written
            if not (out / "best.pt").exists():  # removed (another run's, refused): its best is not this run's either
                best = (-1.0, 0.0)
                print(printable(f"{out} has no best.pt: the best epoch from here on becomes it"), file=sys.stderr)

    meta = {"classes": list(full.classes), "model_name": cfg.model, "preprocess": pre.to_dict(),
            "data_fingerprint": data_fp, "package_version": __version__,
            "num_parameters": count_parameters(model), "train_images": len(x_tr), "val_images": len(x_va)}
    if teacher is not None:
        meta["teacher"] = {"file": teacher.path.name, "model_name": teacher.model_name,
                           "weight": cfg.distill_weight, "temperature": cfg.distill_temperature}
    if main:
        print(f"{cfg.model}: {meta['num_parameters']:,} parameters; {len(x_tr)} train / {len(x_va)} val; "
              f"device {device}, autocast {amp}; {counted(dd.world_size, 'process', 'processes')}, "
              f"{counted(cfg.batch_size // dd.world_size, 'image')} per process per step", file=sys.stderr)
    bar = tqdm(total=total_steps, initial=start_epoch * steps_per_epoch, unit="step", file=sys.stderr,
               dynamic_ncols=True, disable=not (main and sys.stderr.isatty()))  # a log got every redraw
    t_start = time.time()
    for epoch in range(start_epoch, cfg.epochs):
        ddp_model.train()
        t0 = time.time()
        order = torch.randperm(len(x_tr), generator=gen)
        if dd.enabled:
            aug_gen.manual_seed(cfg.seed + 1_000_003 * (epoch + 1) + dd.rank)
        loss_sum, correct, seen = 0.0, 0, 0
        size = cfg.size_for_epoch(epoch)
        bar.set_description(f"epoch {epoch + 1}/{cfg.epochs}" + (f" @{size}px" if size != cfg.image_size else ""))
        for i in range(steps_per_epoch):
            idx = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            if len(idx) < 2 * dd.world_size:
                continue  # BatchNorm needs two samples (per rank; the same decision on every rank)
            idx = D.shard(idx, dd)
            x = x_tr[idx].float().mul_(INPUT_SCALE).unsqueeze(1)
            if size != cfg.image_size:  # progressive resizing: same crop, fewer pixels
                x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
            x = augment(x, aug_gen, cfg.erase, cfg.bias_field, cfg.reframe, cfg.histogram_shift, cfg.elastic,
                        cfg.augment_strength, augment_off, cfg.augment_shift, cfg.augment_intensity, cfg.vflip)
            if mix_alpha:  # off: no random numbers drawn, the shipped recipe stays bit for bit
                x, y_mix, lam = mix(x, y_tr[idx], aug_gen, mix_alpha)
                y_mix = y_mix.to(device)
            t_logits = teacher.logits(x).to(device) if teacher is not None else None  # same view as the student
            x = x.to(device).contiguous(memory_format=torch.channels_last)
            y = y_tr[idx].to(device)
            with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
                logits = ddp_model(x)
                logits32 = logits.float()
                loss = F.cross_entropy(logits32, y, label_smoothing=cfg.label_smoothing)
                if mix_alpha:
                    mixed = F.cross_entropy(logits32, y_mix, label_smoothing=cfg.label_smoothing)
                    loss = lam * loss + (1 - lam) * mixed
                if t_logits is not None:
                    loss = (1 - cfg.distill_weight) * loss + cfg.distill_weight * distillation_loss(
                        logits, t_logits, cfg.distill_temperature)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            ema.update_parameters(model)
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(idx)
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}",
                            best_val=f"{max(best[0], 0):.4f}")
        loss_sum, correct, seen = D.all_sum([loss_sum, correct, seen], dd, device)  # over all ranks
        check_finite(model, epoch + 1, cfg.lr, epoch > start_epoch or ck is not None)  # on every rank alike
        if not main:
            continue  # rank 0 evaluates and writes; the others wait for it in the next step's all-reduce
        row = {"epoch": epoch + 1, "image_size": size, "lr": opt.param_groups[0]["lr"],
               "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1)}
        for name, net in (("val", model), ("val_ema", ema.module)):
            logits = evaluate_logits(net, x_va, device, amp)
            row[f"{name}_loss"] = F.cross_entropy(logits, y_va).item()
            row[f"{name}_acc"] = (logits.argmax(1) == y_va).float().mean().item()
        row["epoch_seconds"] = time.time() - t0
        check_validation_losses(row, cfg.lr, epoch > start_epoch or ck is not None)  # before its row and checkpoints
        score = (row["val_ema_acc"], -row["val_ema_loss"])
        row["best"] = score > best
        with (out / "metrics.jsonl").open("a") as f:
            f.write(json.dumps(row) + "\n")
        if row["best"]:
            best = score
            save_checkpoint({"model": ema.module.state_dict(), "meta": meta, "epoch": epoch + 1, "val_acc": score[0],
                             "val_loss": -score[1], "settings": pinned_settings(cfg, full.classes)}, out / "best.pt")
        save_checkpoint({"model": model.state_dict(), "ema": ema.state_dict(), "optimizer": opt.state_dict(),
                         "scheduler": sched.state_dict(), "generator": gen.get_state(),
                         "torch_rng": torch.get_rng_state(), "scaler": scaler.state_dict(), "epoch": epoch,
                         "best": list(best), "settings": pinned_settings(cfg, full.classes)}, out / "last.pt")
        bar.write(f"epoch {epoch + 1:3d}  loss {row['train_loss']:.3f}  train {row['train_acc']:.4f}  "
                  f"val {row['val_acc']:.4f}  val_ema {row['val_ema_acc']:.4f}  "
                  f"({row['epoch_seconds']:.1f}s){'  *' if row['best'] else ''}")
    bar.close()
    D.check_in_sync(model, dd)
    if main:
        print(printable(f"done in {duration_text(time.time() - t_start)}; best val_ema acc {best[0]:.4f}; "
                        f"{out / 'best.pt'}"), file=sys.stderr)
    return out / "best.pt"
