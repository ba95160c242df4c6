"""run_cli: the CLI's main() run in-process, with its exit code and captured output (shared by the CLI tests)."""

from __future__ import annotations

from braintumor.cli import main


def run_cli(args, capsys):
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err
