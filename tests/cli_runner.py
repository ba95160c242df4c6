"""run_cli: the CLI's main() run in-process, with its exit code and captured output (shared by the CLI tests);
run_predict and jsonl: ``braintumor predict`` so run, and its ``--format jsonl`` records (tests/test_predict_*.py)."""

from __future__ import annotations

import json

from braintumor.cli import main


def run_cli(args, capsys):
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def run_predict(args, capsys):
    """``braintumor predict ARGS``, each argument given as str() of it (so paths may be passed as they are)."""
    return run_cli(["predict", *map(str, args)], capsys)


def jsonl(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]
