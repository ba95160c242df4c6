"""Every numeric option of train, evaluate, data audit, calibrate, orientation, predict and serve (export, quantize
and data check have none), given a hostile value (-inf, inf, nan, 1e400, a negative, a huge whole number, 0 where it
is no value): one error line that names the option and the range it takes, exit code 2, no traceback, nothing
written, and before any data is read (--data names no folder)."""

from __future__ import annotations

import pytest
from conftest import needs_torch

from braintumor.cli import main

COMMANDS = {
    "train": ["train", "--data", "{t}/d", "--out", "{t}/r"],
    "evaluate": ["evaluate", "--data", "{t}/d", "--out", "{t}/e"],
    "audit": ["data", "audit", "--data", "{t}/d", "--out", "{t}/a.json"],
    "calibrate": ["calibrate", "{t}/m.onnx", "--run", "{t}/r"],
    "orientation": ["orientation", "{t}/m.onnx", "--run", "{t}/r"],
    "export": ["export", "{t}/r", "--out", "{t}/x.onnx"],  # none yet: walked for one added later
    "quantize": ["quantize", "{t}/m.onnx", "--run", "{t}/r", "--out", "{t}/q.onnx"],
    "check": ["data", "check", "--data", "{t}/d"],
    "predict": ["predict", "{t}/d", "-o", "{t}/p.csv"],
    "serve": ["serve"],
}
ALWAYS = ("-inf", "inf", "nan", "-nan", "1e400", "-1e400", "-5")
HUGE, ZERO = "99999999999999999999999", "0"

#: (command, option, words of the range its message must hold, the values besides ALWAYS that it refuses)
OPTIONS = [
    ("train", "--image-size", "[32, 1024]", (HUGE, ZERO, "0.5", "1e3")),
    ("train", "--epochs", "[1, 10000]", (HUGE, ZERO, "1e30")),
    ("train", "--batch-size", "[2, 4096]", (HUGE, ZERO, "1e2")),
    ("train", "--seed", "[0, 4294967295]", (HUGE, "0.5")),
    ("train", "--split-seed", "[0, 4294967295]", (HUGE, "1e3")),
    ("train", "--limit-per-class", ">= 0", ("1e30",)),
    ("train", "--start-size", "16 ", (HUGE, "8", "1e2")),
    ("train", "--lr", "(0, 1]", (ZERO, "1.5", "1e30", HUGE)),  # 1e30 trained an epoch, then was told it diverged
    ("train", "--val-fraction", "between 0 and 1", (HUGE, ZERO, "1")),
    ("train", "--ema-decay", "[0, 1)", (HUGE, "1")),
    ("train", "--ramp", "(0, 1]", (HUGE, ZERO)),
    ("train", "--distill-weight", "[0, 1]", (HUGE,)),
    ("train", "--distill-temperature", "(0, 100]", (ZERO, "101", "1e30", HUGE)),
    ("train", "--mixup", ">= 0", ()),
    ("train", "--cutmix", ">= 0", ()),
    *(("train", f"--{name}", "[0, 1]", (HUGE, "1.5")) for name in
      ("erase", "bias-field", "reframe", "histogram-shift", "elastic", "vflip", "mixstyle")),
    ("train", "--augment-strength", "[0, 3]", (HUGE,)),
    ("train", "--augment-shift", "[0, 0.5]", (HUGE, "0.6")),
    ("train", "--augment-intensity", "[0, 3]", (HUGE,)),
    ("train", "--background-percentile", "[0, 50)", (HUGE, "50")),
    ("evaluate", "--leak-threshold", "0 to 64", (HUGE, "65", "0.5")),
    ("audit", "--threshold", "0 to 64", (HUGE, "65", "8.0")),
    ("calibrate", "--background-percentile", "[0, 50)", (HUGE, "50")),
    ("calibrate", "--ood-augment", "[0, 10]", (HUGE, "11", "1e1")),
    ("calibrate", "--ood-framing", "[0, 10]", (HUGE, "11", "2.5")),
    ("orientation", "--seed", "[0, 4294967295]", (HUGE, "0.5")),
    ("orientation", "--epochs", "[1, 10000]", (HUGE, ZERO, "10001", "2.5")),
    # --batch-size 10**23 was taken: a whole folder decoded into one batch
    ("predict", "--batch-size", "[1, 1024]", (HUGE, ZERO, "1025", "32.0")),
    # these said "expected a whole number, got 'inf'" and "must be at least 1, got 0", without their range
    *((command, "--threads", "[1, 256]", (HUGE, ZERO, "257", "1e2")) for command in ("predict", "serve")),
    *((command, "--workers", "[1, 64]", (HUGE, ZERO, "65", "2.0")) for command in ("predict", "serve")),
    ("serve", "--port", "[1, 65535]", (HUGE, ZERO, "65536", "5e3")),
    # floats: a huge timeout is taken (a server that never gives up on a client); the upload limit's 0.001 to 1024 is
    # in tests/test_cli_number_ranges.py
    ("serve", "--max-upload-mb", "more than 0", (ZERO,)),
    ("serve", "--client-timeout", "more than 0", (ZERO,)),
    ("serve", "--request-timeout", "more than 0", (ZERO,)),
]
CASES = [pytest.param(command, option, span, value, id=f"{command}{option}={value}",
                      marks=[needs_torch] if command == "train" else [])
         for command, option, span, more in OPTIONS for value in (*ALWAYS, *more)]


@pytest.mark.parametrize(("command", "option", "span", "value"), CASES)
def test_a_numeric_option_s_hostile_value_is_one_line_naming_its_range(command, option, span, value, tmp_path,
                                                                      capsys, monkeypatch):
    import braintumor.serve

    monkeypatch.setattr(braintumor.serve, "serve", lambda *a, **k: pytest.fail("the server was started"))
    (tmp_path / "m.onnx").write_bytes(b"")  # calibrate and orientation look for the model file first
    argv = [word.format(t=tmp_path) for word in COMMANDS[command]]
    try:
        rc = main([*argv, option, value])
    except SystemExit as exc:  # argparse's usage error
        rc = exc.code
    err = capsys.readouterr().err
    said = err.rstrip().splitlines()[-1] if err.strip() else ""
    assert rc == 2 and "Traceback" not in err, err
    assert "error: " in said and option in said and span in said, said
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]  # no run folder, report, cache or dataset folder


def test_every_numeric_option_of_these_commands_is_walked():
    """A numeric option added later is in OPTIONS too."""
    import argparse

    from braintumor.cli import build_parser

    found = set()
    for command, words in COMMANDS.items():
        parser = build_parser()
        for word in words[:2 if words[0] == "data" else 1]:
            parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[word]
        found |= {(command, a.option_strings[-1]) for a in parser._actions if a.option_strings and a.type
                  and a.nargs is None and isinstance(a.type("1"), int | float)}
    assert found == {(command, option) for command, option, *_ in OPTIONS}
