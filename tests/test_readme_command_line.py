"""The command-line reference's synopsis (docs/CLI.md, "Synopsis"; README's "Command line" block before it moved)
against the parsers: every option it shows exists, is bracketed exactly when it is optional, and a value it shows in
brackets is the default; every option of a command is shown (train: ``...``)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from braintumor.cli import build_parser
from braintumor.train_config import TrainConfig

README = Path(__file__).resolve().parents[1] / "README.md"
CLI = README.parent / "docs" / "CLI.md"  # the full reference README's "Command line" links to
OPTION = re.compile(r"(?<![\w-])(-{1,2}[a-z][a-z-]*)(?:\s+([^\s\[\]|]+(?:\|[^\s\[\]|]+)*))?")


def usage_lines() -> list[str]:
    block = CLI.read_text().split("## Synopsis", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    lines: list[str] = []
    for line in block.splitlines():
        code = re.split(r"\s#\s", line, maxsplit=1)[0].rstrip()
        if line.startswith("braintumor "):
            lines.append(code)
        elif line.startswith(" ") and lines:  # a continuation
            lines[-1] += " " + code.strip()
    return lines


def subparser(words: list[str]) -> argparse.ArgumentParser:
    parser = build_parser()
    for word in words:
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if sub is None or word not in sub.choices:
            break
        parser = sub.choices[word]
    return parser


def placeholder(value: str) -> bool:
    """FILE, N, RUN_DIR, DIR/metrics.json, MODEL-int8.onnx: a name to fill in, not a default."""
    return bool(re.search(r"[A-Z]{2,}", value) or re.fullmatch(r"[A-Z]", value))


def test_the_readme_command_line_block_is_true_to_the_parsers():
    lines = usage_lines()
    assert len(lines) >= 10
    problems = []
    for line in lines:
        parser = subparser(line.split()[1:3])
        name = parser.prog
        actions = {o: a for a in parser._actions for o in a.option_strings if o not in ("-h", "--help")}
        shown = set()
        for m in OPTION.finditer(line):
            flag, value = m.group(1), m.group(2)
            action = actions.get(flag)
            if action is None:
                problems.append(f"{name}: {flag} is not an option")
                continue
            shown.add(action)
            bracketed = line[:m.start()].count("[") > line[:m.start()].count("]")
            if bracketed == action.required:
                problems.append(f"{name}: {flag} is {'required' if action.required else 'optional'}")
            if action.nargs == 0 or value is None:  # a switch (or a value-less mention)
                if action.nargs != 0:
                    problems.append(f"{name}: {flag} takes a value")
                continue
            if "|" in value:
                if set(value.split("|")) != set(action.choices or ()):
                    problems.append(f"{name}: {flag} {value}: the choices are {action.choices}")
                continue
            default = action.default
            if default is None and name == "braintumor train":  # --epochs: None means the config's default
                default = getattr(TrainConfig(data="", out=""), action.dest, None)
            if bracketed and not placeholder(value) and value != str(default):
                problems.append(f"{name}: [{flag} {value}] but the default is {default}")
        if not line.endswith("..."):
            problems += [f"{name}: {a.option_strings[-1]} is not shown" for a in set(actions.values()) - shown]
    assert problems == []


def _options(parser=None, prefix: str = "braintumor"):
    """(command words, parser, action) of every option of every subcommand (the help tests' one walk)."""
    import argparse

    from braintumor.cli import build_parser

    parser = parser or build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, f"{prefix} {name}")
        elif action.option_strings:
            yield prefix, parser, action


def test_every_option_says_what_it_does():
    """train --image-size/--lr, predict --batch-size, serve --port and others had no help text in --help."""
    assert [f"{prefix} {a.option_strings[0]}" for prefix, _, a in _options() if not a.help] == []


def test_every_default_is_in_the_help():
    """``serve --help`` showed ``--port PORT  TCP port to listen on``: 5000, 127.0.0.1, predict's batch of 32 and 30
    more defaults were in the README or the code only. Each option that takes a value and has a default says it."""
    import argparse

    from braintumor.cli import build_parser

    hidden = []

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        text = "".join(parser.format_help().split())  # as wrapped: "gray-level" may break after its hyphen
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{prefix} {name}")
            elif action.option_strings and action.nargs != 0 and action.default not in (None, ""):
                said = "".join(parser._get_formatter()._expand_help(action).split())
                if "default" not in said or said not in text:
                    hidden.append(f"{prefix} {action.option_strings[-1]}")

    walk(build_parser(), "braintumor")
    assert hidden == []


def test_help_names_the_environment_variables_that_set_defaults():
    """``predict --help`` said ``--model`` defaults to the shipped model and ``evaluate --help`` that ``--data``
    defaults to ../shared/...; $BRAINTUMOR_MODEL and $BRAINTUMOR_DATA set both (docs/WEB.md, README), which only
    ``data check/audit --help`` said."""
    from braintumor.data import DEFAULT_DATA_ROOT

    silent = [f"{prefix} --data" for prefix, _, a in _options()
              if a.dest == "data" and a.default == DEFAULT_DATA_ROOT and "$BRAINTUMOR_DATA" not in a.help]
    silent += [f"{prefix} --model" for prefix, _, a in _options() if a.dest == "model"
               and prefix.split()[-1] in ("predict", "serve", "evaluate") and "$BRAINTUMOR_MODEL" not in a.help]
    assert silent == []


def test_help_states_defaults_the_code_computes():
    """Options whose default is worked out when the command runs said nothing of it: ``predict --threads`` (CPUs, at
    most 4), ``train --split-seed`` (--seed), ``calibrate --background-percentile`` (what the model recorded), ``train
    --precision`` (auto: bf16 on a CPU with native bf16, fp32 on one without, where it is ~9x slower; it said only
    "default auto")."""
    import argparse

    from braintumor.cli import build_parser

    def option(words: list[str]) -> argparse.Action:
        parser = build_parser()
        for word in words[:-1]:
            parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[word]
        return next(a for a in parser._actions if words[-1] in a.option_strings)

    for words, said in ((["predict", "--threads"], "default: CPUs, at most 4"),
                        (["train", "--split-seed"], "default: --seed"),
                        (["calibrate", "--background-percentile"], "default: what the model recorded"),
                        (["train", "--precision"], "auto: bf16 autocast where the CPU has native bf16, else fp32")):
        assert said in option(words).help, words


def test_the_cli_reference_names_every_image_format_predict_refuses_by_name():
    """README's predict bullet (now docs/CLI.md's "predict" inputs) listed GIF, JPEG 2000, HEIC/AVIF, PGM/PPM and ICO
    when image_headers also named JPEG XL, HEIF and PSD files: a user with a .jxl or .psd could not tell from it that
    the refusal is by design."""
    from braintumor.image_files import OTHER_FORMAT_ENDINGS

    bullet = CLI.read_text().split("\n### Inputs\n", 1)[1].split("\n### ", 1)[0]  # predict's inputs
    for name in set(OTHER_FORMAT_ENDINGS.values()):
        short = m.group(1) if (m := re.search(r"\((\w+)\)$", name)) else name.split(" (")[0]  # ICO, PSD, Netpbm
        assert short in bullet, f"docs/CLI.md's predict inputs do not name {short} files, refused by name"


def test_a_placeholder_the_parser_names_is_the_readmes():
    """``--help`` and the README (now docs/CLI.md) named one value two ways: ``--heatmap OUT_DIR`` against ``--heatmap
    DIR``, ``--client-timeout SECONDS`` against ``S``. Where a parser chose its own name (a metavar), the synopsis uses
    it."""
    problems = []
    for line in usage_lines():
        parser = subparser(line.split()[1:3])
        actions = {o: a for a in parser._actions for o in a.option_strings}
        for m in OPTION.finditer(line):
            action, value = actions.get(m.group(1)), m.group(2)
            if action is not None and action.metavar and value and placeholder(value) and value != action.metavar:
                problems.append(f"{parser.prog}: docs/CLI.md {m.group(1)} {value}, "
                                f"--help {m.group(1)} {action.metavar}")
    assert problems == []


def test_the_cache_folders_help_says_what_sets_it(tmp_path, monkeypatch):
    """train --help said the cache was ~/.cache/braintumor; $BRAINTUMOR_CACHE and $XDG_CACHE_HOME move it."""
    from braintumor.prepared_images import default_cache_dir

    help_text = next(a.help for a in subparser(["train"])._actions if "--cache-dir" in a.option_strings)
    monkeypatch.delenv("BRAINTUMOR_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "braintumor" and "$XDG_CACHE_HOME/braintumor" in help_text
    monkeypatch.setenv("BRAINTUMOR_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c" and "$BRAINTUMOR_CACHE" in help_text


def test_serve_help_names_the_exit_statuses_deploy_md_gives():
    """serve's --help ended mid-phrase, "...; once serving, gunicorn's", naming no status of a running server: it says
    DEPLOY.md's statuses, 3 (a worker could not start) with them."""
    deploy = " ".join((README.parent / "docs" / "DEPLOY.md").read_text().split())
    said = re.search(r"once serving, the exit statuses are gunicorn's \((\d+): ([^)]*)\)", deploy)
    assert said, "DEPLOY.md no longer says a running server's exit statuses"
    epilog = " ".join(subparser(["serve"]).format_help().split())
    assert f"gunicorn's own ({said.group(1)}: {said.group(2)})" in epilog
    for status in ("2 usage error", "75 the port held by another program"):
        assert status in epilog


def test_what_serve_refuses_with_exit_status_2_names_the_host_names_variable():
    """A bad $BRAINTUMOR_ALLOWED_HOSTS stops serve with exit status 2, which the systemd unit does not retry; serve's
    --help and DEPLOY.md listed what status 2 covers (an option, the model, GUNICORN_CMD_ARGS) without it."""
    from braintumor.host_names import ALLOWED_HOSTS_ENV

    epilog = " ".join(subparser(["serve"]).format_help().split())
    covers = re.search(r"2 usage error \(([^)]*)\)", epilog)
    assert covers and "GUNICORN_CMD_ARGS" in covers.group(1) and ALLOWED_HOSTS_ENV in covers.group(1), epilog
    deploy = " ".join((README.parent / "docs" / "DEPLOY.md").read_text().split())
    said = re.findall(r"status 2(?::| for) a mistake in (?:the command line or )?what it (?:names|was given) "
                      r"\(([^)]*)\)", deploy)
    assert len(said) == 2 and all(ALLOWED_HOSTS_ENV in s and "GUNICORN_CMD_ARGS" in s for s in said), said
