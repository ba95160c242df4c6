"""An option's value that reads as a negative number gets the option's own message, typed ``--opt -inf`` as
``--opt=-inf``: argparse took ``-inf``, ``-nan`` and ``-1e5`` for options, and said "expected one argument"."""

from __future__ import annotations

import argparse

import pytest

from braintumor.cli import build_parser

VALUES = ["-1", "-0.5", "-inf", "-nan", "-1e5", "-1_000", "-0x1"]


def _one_value_options(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every option of every command that takes one value, as the words that reach it (``serve --port``)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _one_value_options(sub, (*words, name))
        elif action.option_strings and action.nargs is None:
            found.append((*words, max(action.option_strings, key=len)))
    return found


PARSER = build_parser()
OPTIONS = _one_value_options(PARSER)


def _said(words: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The usage error ``words`` get, or the values they parse to (where the value is taken)."""
    try:
        return str(vars(PARSER.parse_args(words)))
    except SystemExit:
        return capsys.readouterr().err


def test_the_numeric_options_are_all_walked():
    names = {o[-1] for o in OPTIONS}
    assert {"--port", "--threads", "--workers", "--max-upload-mb", "--client-timeout", "--request-timeout",
            "--batch-size", "--leak-threshold", "--threshold", "--epochs", "--seed", "--lr", "--ood-augment",
            "--background-percentile", "--image-size", "--mixup", "--val-fraction"} <= names


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("option", OPTIONS, ids=" ".join)
def test_an_options_negative_value_after_a_space_is_told_as_after_an_equals_sign(option, value, capsys):
    *command, name = option
    spaced = _said([*command, name, value], capsys)
    assert "expected one argument" not in spaced, spaced
    assert spaced == _said([*command, f"{name}={value}"], capsys)


def test_an_abbreviated_option_takes_its_negative_value_too(capsys):
    said = _said(["serve", "--request-t", "-inf"], capsys)
    assert "argument --request-timeout: must be a finite number more than 0, got -inf" in said, said


def test_a_negative_value_after_the_end_of_options_is_still_no_options_value(capsys):
    said = _said(["serve", "--port", "--", "-inf"], capsys)
    assert "argument --port: expected one argument" in said, said
