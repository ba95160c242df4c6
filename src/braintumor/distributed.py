"""Data-parallel training with PyTorch's own engine (``torchrun ... -m braintumor train``).

torchrun starts one process per device and sets RANK, LOCAL_RANK and WORLD_SIZE; without
them (plain ``braintumor train``) everything here is a no-op and training is one process.

The recipe does not change with the number of processes: ``--batch-size`` stays the *global*
batch, every rank draws the same permutation of the training set from the shared seed and
takes every world_size-th index of each global batch (like ``DistributedSampler``), so the
steps per epoch, the learning-rate schedule and the samples seen per step are those of one
process. What does differ: each rank augments its own shard with its own generator, and
BatchNorm normalises over the per-rank batch (``--sync-bn`` on CUDA to use the global one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .train_config import ConfigError


@dataclass(frozen=True)
class Dist:
    """Where this process stands in the job (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that logs and writes files."""
        return self.rank == 0


def from_env() -> Dist:
    """The torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK), or a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    return Dist(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def check_settings(d: Dist, device: torch.device, batch_size: int, sync_bn: bool, run: str | None = None) -> None:
    """ConfigError unless the global batch splits over the processes and --sync-bn has CUDA processes to sync.

    Its own function: a resumed run's batch size and --sync-bn are read from its config.json after the group is
    joined (rank 0 reads, then sends), and are checked then; the command line's defaults said nothing of them.
    ``run``: the resumed run folder, whose own settings these are (said as such: the user typed no such flag)."""
    was = f"cannot resume {run}: it was trained with" if run is not None else ""
    if batch_size % d.world_size:
        if run is not None:
            raise ConfigError(f"{was} --batch-size {batch_size} (its config.json), the global batch, which "
                              f"{d.world_size} processes cannot share: resume it with a number of processes that "
                              f"divides {batch_size}")
        raise ConfigError(f"--batch-size {batch_size} is the global batch: it must be divisible by the "
                          f"{d.world_size} processes (each takes batch/world_size samples per step)")
    if sync_bn and not (d.enabled and device.type == "cuda"):
        if run is not None:
            raise ConfigError(f"{was} --sync-bn (its config.json), which needs several CUDA processes: resume it "
                              "under torchrun on GPUs")
        raise ConfigError("--sync-bn needs several CUDA processes (torchrun on GPUs); BatchNorm on CPU is per rank")


def setup(device: torch.device, batch_size: int | None, sync_bn: bool = False) -> tuple[Dist, torch.device]:
    """Join the process group (NCCL on CUDA, gloo on CPU) and pick this rank's device.

    Under torchrun any CUDA device ("auto", "cuda", "cuda:1") means cuda:LOCAL_RANK: one GPU per process.
    ``batch_size`` None: not known yet (--resume), the caller runs check_settings once it is.
    """
    d = from_env()
    if batch_size is not None:  # before joining: a refused setting needs no group
        check_settings(d, device, batch_size, sync_bn)
    if not d.enabled:
        return d, device
    if device.type == "cuda":
        device = torch.device("cuda", d.local_rank)
        torch.cuda.set_device(device)
    # DDP imports torch._dynamo; imported after the group exists (torch._inductor.config's import, in torch 2.13),
    # it keeps that group alive past destroy_process_group(), so gloo's threads ran into interpreter exit, where a
    # rank that had finished now and then aborted ("terminate called without an active exception", exit code -6).
    # Imported first, it holds nothing and finish() really ends the group's threads.
    import torch._dynamo as _dynamo  # noqa: F401  (as: a plain import would make `torch` local to setup())
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return d, device


def wrap(model: nn.Module, d: Dist, device: torch.device) -> nn.Module:
    """DDP around ``model`` (which keeps its own parameters, so checkpoints have no 'module.' prefix)."""
    if not d.enabled:
        return model
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def shard(index: torch.Tensor, d: Dist) -> torch.Tensor:
    """This rank's share of one global batch: every world_size-th index, starting at the rank."""
    return index[d.rank::d.world_size]


def all_sum(values: list[float], d: Dist, device: torch.device) -> list[float]:
    """Element-wise sum over all ranks (epoch totals: loss, correct, seen)."""
    if not d.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def broadcast(obj: object, d: Dist) -> object:
    """Rank 0's ``obj`` on every rank (a resumed checkpoint: only rank 0 reads files)."""
    if not d.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def check_in_sync(model: nn.Module, d: Dist) -> None:
    """Raise unless every rank holds the same weights (DDP keeps them bit-identical; a bug would not)."""
    if not d.enabled:
        return
    with torch.no_grad():
        total = torch.stack([p.double().sum() for p in model.parameters()]).sum()
    lo, hi = total.clone(), total.clone()
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    if lo.item() != hi.item():
        raise RuntimeError(f"ranks hold different weights (checksums {lo.item()} .. {hi.item()})")


@contextmanager
def local_main_first(d: Dist) -> Iterator[None]:
    """Local rank 0 runs the block first (e.g. fills the per-machine decode cache), the others after."""
    if d.enabled and d.local_rank != 0:
        dist.barrier()
    yield
    if d.enabled and d.local_rank == 0:
        dist.barrier()


def finish(d: Dist, ok: bool) -> None:
    """Wait for all ranks (only after success: a failed rank never arrives) and leave the group."""
    if d.enabled and dist.is_initialized():
        if ok:
            dist.barrier()
        dist.destroy_process_group()
