"""What a stopped command kept and how to go on, the line ``braintumor`` says after a stop (Ctrl-C, SIGTERM, SIGHUP,
a second signal): resume a training run from its last.pt or start it again, or run ``predict --resume`` again. Moved
from cli_run.py (290 lines, near the size limit), which prints it.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from .exit_errors import UsageError


def file_stamp(folder: str | None, name: str) -> tuple[int, ...] | None:
    """What tells one version of ``folder/name`` from another (a rewrite, a new file under its name); None for none."""
    with contextlib.suppress(OSError, TypeError, ValueError):
        st = (Path(folder) / name).stat()  # type: ignore[arg-type]
        return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns
    return None


def how_to_continue(args: argparse.Namespace) -> str | None:
    """Where a run can be continued, what was kept and how to go on: a stopped training run, or ``predict --resume``,
    whose records so far stay in its file (else one wonders whether to start again, scoring everything twice, or is
    refused for a run folder that already holds a run)."""
    with contextlib.suppress(OSError, TypeError, UsageError):  # a path that cannot be checked: say nothing more
        if args.command == "train":
            return _train_hint(Path(args.out), getattr(args, "overwrite", False),
                               getattr(args, "earlier_last_pt", None))
        if args.command == "predict" and getattr(args, "resume", False) and args.output not in (None, "-") \
                and Path(args.output).is_file() and _holds_records(args):
            return f"the records so far are kept in {args.output}: run the same command again, with --resume, to " \
                   "continue"
    return None


def _train_hint(run: Path, overwrite: bool, earlier: tuple[int, ...] | None = None) -> str:
    """What a stopped training run kept in ``run`` and how to go on: resume from last.pt, or, before the first epoch's
    last.pt, start again (a stop in epoch 1 said only "interrupted", leaving its config.json and split.json). Under
    ``--overwrite``, a last.pt that is still the file found at the start (``earlier``: :func:`file_stamp`'s) is the
    earlier run's, not yet removed (a stop in the decode): resuming it continued the run the user had asked to
    replace. Told by the file, not its age: a clock ahead, or a rerun within a second, dated it either way."""
    last = run / "last.pt"
    if overwrite and earlier is not None and file_stamp(str(run), "last.pt") == earlier:
        return (f"stopped before the earlier run in {run} was replaced: its checkpoints are as they were; run the "
                "same command again to start the new run")
    if last.is_file():  # --overwrite and --resume together are a usage error
        how = "--resume in place of --overwrite" if overwrite else "--resume"
        return f"{run / 'last.pt'} holds the last finished epoch: run the same command with {how} to continue"
    kept = [name for name in ("config.json", "split.json", "metrics.jsonl", "best.pt") if (run / name).is_file()]
    if not kept:
        return f"stopped before training began: nothing was written in {run}; run the same command again to start"
    # a best.pt (epoch 1 stopped before its last.pt) makes the folder a run that the same command refuses
    again = "with --overwrite" if "best.pt" in kept and not overwrite else "again"
    return f"no epoch was checkpointed (no last.pt): {run} keeps only {', '.join(kept)}, nothing to resume; run the " \
           f"same command {again} to start the run over"


def _holds_records(args: argparse.Namespace) -> bool:
    """Whether a stopped ``predict --resume`` run's -o file holds records (batch_resume.holds_records)."""
    from .batch_resume import holds_records  # (a stopped run's: the readers are not loaded for every command)
    from .predict_output import output_format

    return holds_records(Path(args.output), output_format(getattr(args, "format", None), args.output))
