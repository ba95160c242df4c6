"""The user docs' commands, links and names against the code, without running anything slow: every ``braintumor``
command a doc shows uses options its parser has (and parses, where the doc shows it whole), every ``python scripts/``
or ``benchmarks/`` command names a script that has the options shown, every option of every command is described
somewhere, every relative link and every repository path resolves, and every ``module.name`` a doc cites exists."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import shlex
from pathlib import Path

import pytest
from conftest import REPO, extra_reason

from braintumor.cli import build_parser
from braintumor.script_entry import EXTRAS

USER_DOCS = ("README.md", "docs/CLI.md", "docs/SCANS.md", "docs/WEB.md", "docs/DEPLOY.md", "docs/TRAINING.md",
             "models/MODEL_CARD.md")
ALL_DOCS = (*USER_DOCS, "docs/PERFORMANCE.md", "docs/RESULTS.md")
FENCE = re.compile(r"```[\w-]*\n(.*?)```", re.S)
COMMAND = re.compile(r"(?:^|[\s;&|(])(?:-m )?(?:braintumor )+((?:[a-z]|--version).*)")
SCRIPT = re.compile(r"python ((?:scripts|benchmarks)/\w+\.py)([^`;|)]*)")
FLAG = re.compile(r"(?<![\w-])(--?[a-z][a-z0-9-]*)")


def fenced_lines(doc: str) -> list[str]:
    """The lines of a doc's code blocks, a backslash continuation joined, ``$ `` prompts dropped."""
    blocks = FENCE.findall((REPO / doc).read_text())
    return [line.strip().removeprefix("$ ") for block in blocks for line in block.replace("\\\n", " ").splitlines()]


def inline_spans(doc: str) -> list[str]:
    """The doc's inline code outside its code blocks, a span that a line break splits joined again."""
    prose = " ".join(FENCE.sub("", (REPO / doc).read_text()).split())
    return re.findall(r"`([^`]+)`", prose)


def command_of(text: str) -> str:
    """What one command says, up to a comment, a pipe, a ``&&`` or a ``;``."""
    return re.split(r"\s#\s|\s\|\s|\s&&\s|;", text)[0].strip()


def parser_for(words: list[str]) -> tuple[argparse.ArgumentParser, list[str]]:
    """The (sub)parser the leading words name, and those words."""
    parser, used = build_parser(), []
    for word in words:
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if sub is None or word not in sub.choices:
            break
        parser, used = sub.choices[word], [*used, word]
    return parser, used


def braintumor_commands(doc: str) -> list[tuple[str, bool]]:
    """(command after ``braintumor``, shown whole in a code block) for every command the doc shows."""
    found = [(command_of(m.group(1)), True) for line in fenced_lines(doc) for m in COMMAND.finditer(line)]
    return found + [(command_of(m.group(1)), False) for span in inline_spans(doc) for m in COMMAND.finditer(span)]


def test_every_braintumor_command_in_the_docs_is_one_its_parser_takes():
    shown = 0
    problems = []
    for doc in USER_DOCS:
        for command, whole in braintumor_commands(doc):
            parser, used = parser_for(command.split())
            options = {o for a in parser._actions for o in a.option_strings}
            shown += 1
            problems += [f"{doc}: braintumor {' '.join(used)} has no {flag}: `{command}`"
                         for flag in FLAG.findall(command) if flag not in options]
            if whole and used and not re.search(r"[\[$]|\.\.\.|[A-Z]{3,}\b(?!\.)", command):
                err = io.StringIO()
                with contextlib.redirect_stderr(err), contextlib.suppress(SystemExit):
                    build_parser().parse_args(shlex.split(command))
                if err.getvalue():
                    problems.append(f"{doc}: `braintumor {command}`: {err.getvalue().strip().splitlines()[-1]}")
    assert shown >= 80, "the commands were not found"
    assert problems == []


def script_options(script: Path) -> set[str]:
    """The options a script's parser declares: in its own source or a helper module beside it (``_common.py``)."""
    sources = [script, *script.parent.glob("_*.py")]
    return {m for s in sources for m in re.findall(r"""["'](--[a-z][a-z0-9-]*)["']""", s.read_text())}


def test_every_script_command_in_the_docs_names_a_script_with_those_options():
    problems = []
    commands = set()
    for doc in USER_DOCS:
        texts = [*fenced_lines(doc), *inline_spans(doc)]
        commands |= {(doc, m.group(1), m.group(2).split(" -- ")[0]) for t in texts for m in SCRIPT.finditer(t)}
    assert len(commands) >= 20, "the commands were not found"
    for doc, name, args in sorted(commands):
        script = REPO / name
        if not script.is_file():
            problems.append(f"{doc}: no {name}")
            continue
        problems += [f"{doc}: {name} has no {flag}" for flag in FLAG.findall(args)
                     if flag not in script_options(script)]
    assert problems == []


def test_every_option_of_every_command_is_described_in_the_docs():
    """``train --limit-per-class`` (the tests' smoke runs) and ``braintumor --version`` were in ``--help`` only."""
    text = "\n".join((REPO / doc).read_text() for doc in ALL_DOCS)
    missing = []

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{prefix} {name}")
            elif action.option_strings and action.option_strings[-1] != "--help" and not any(
                    re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text) for o in action.option_strings):
                missing.append(f"{prefix} {action.option_strings[-1]}")

    walk(build_parser(), "braintumor")
    assert missing == []


@pytest.mark.parametrize("command", [["predict"], ["evaluate"], ["data", "check"], ["data", "audit"],
                                     ["data", "download"]])
def test_cli_reference_says_what_each_option_of_its_own_commands_does(command):
    """README calls docs/CLI.md the full reference, every option; predict's --threads, --batch-size, --summary and
    --progress, evaluate's --run and data audit's --hash were only in its synopsis (a code block), what they do and
    their defaults left to --help. (serve's options are WEB.md's table; the training commands TRAINING.md's.)"""
    prose = " ".join(FENCE.sub("", (REPO / "docs/CLI.md").read_text()).split())
    parser, _ = parser_for(command)
    missing = [action.option_strings[-1] for action in parser._actions
               if action.option_strings and action.option_strings[-1] != "--help"
               and not any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", prose) for o in action.option_strings)]
    assert missing == []


def heading_anchors(doc: Path) -> set[str]:
    """GitHub's anchors for a doc's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*$", FENCE.sub("", doc.read_text()), re.M):
        anchor = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = sum(a == anchor or re.fullmatch(rf"{re.escape(anchor)}-\d+", a) is not None for a in anchors)
        anchors.add(anchor if n == 0 else f"{anchor}-{n}")
    return anchors


def test_every_relative_link_in_the_docs_resolves():
    problems = []
    links = 0
    for name in ALL_DOCS:
        doc = REPO / name
        text = FENCE.sub("", doc.read_text())
        for link in re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'(?:src|href)="([^"]+)"', text):
            if re.match(r"[a-z]+:", link):
                continue
            links += 1
            path, _, anchor = link.partition("#")
            target = (doc.parent / path).resolve() if path else doc
            if not target.exists():
                problems.append(f"{name}: {link}: no such file")
            elif anchor and target.suffix == ".md" and anchor not in heading_anchors(target):
                problems.append(f"{name}: {link}: no such heading")
    assert links >= 30, "the links were not found"
    assert problems == []


def test_every_repository_path_in_the_docs_exists():
    named = re.compile(r"(?<![\w./~-])((?:src|tests|scripts|benchmarks|models|docs|deploy|\.ci)/[\w./*-]*\w)")
    problems = []
    for doc in USER_DOCS:
        for path in sorted(set(named.findall((REPO / doc).read_text()))):
            if not list(REPO.glob(path)) and not (REPO / "src/braintumor" / path).exists():
                problems.append(f"{doc}: {path}")
    assert problems == []


# Dotted names in the docs' inline code that are not Python: JSON keys of an answer, and a file.
NOT_PYTHON = {"ood.refusals", "ood.turned", "ood.threshold", "preprocess.equalize", "series.js",
              "braintumor.model.sha256"}  # an image label (DEPLOY.md)


def test_every_module_name_the_docs_cite_exists():
    """``prediction.REVIEW_BELOW``, ``image_hashes.duplicate_groups``, ``augment_mixing.mixup``: each is in the
    package."""
    import braintumor

    modules = {p.stem for p in Path(braintumor.__file__).parent.glob("*.py")} | {"web"}
    problems = []
    cited = 0
    for doc in USER_DOCS:
        for span in inline_spans(doc):
            for name in re.findall(r"(?<![\w./-])((?:braintumor\.)?[a-z_]+(?:\.[A-Za-z_]\w*)+)(?![\w/(])", span):
                parts = name.removeprefix("braintumor.").split(".")
                if name in NOT_PYTHON or parts[0] not in modules or parts[-1] in ("json", "jsonl", "html", "py"):
                    continue
                cited += 1
                obj, rest = None, parts
                for i in range(len(parts), 0, -1):
                    try:
                        obj, rest = importlib.import_module("braintumor." + ".".join(parts[:i])), parts[i:]
                        break
                    except ModuleNotFoundError as e:
                        if not (e.name or "").startswith("braintumor"):  # torch, for a training module
                            top = e.name.partition(".")[0]
                            pytest.importorskip(e.name, reason=extra_reason(top, what=f"`{name}`")
                                                if top in EXTRAS else None)
                for attr in rest:
                    obj = getattr(obj, attr, None)
                if obj is None:
                    problems.append(f"{doc}: `{name}`")
    assert cited >= 20, "the names were not found"
    assert problems == []


def test_deploy_md_names_every_core_dependency_the_image_installs():
    """docs/DEPLOY.md listed what the image installs without MarkupSafe, a dependency of its own since the page's
    template filters import it: each core dependency of pyproject.toml (the Linux ones: the image's) is named."""
    tomllib = pytest.importorskip("tomllib", reason="Python >= 3.11 reads TOML")

    said = (REPO / "docs/DEPLOY.md").read_text().split("without the `train` extra:", 1)[1].split(")", 1)[0]
    said = {re.sub(r"[\s-]", "", name).lower() for name in re.split(r",|\band\b|\bfor\b", " ".join(said.split()))}
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [re.match(r"[\w-]+", d).group(0) for d in deps if "win32'" not in d.split(";")[-1] or "!=" in d]
    assert [n for n in names if re.sub(r"[\s-]", "", n).lower() not in said] == []


def test_readme_command_line_and_scan_sections_are_summaries_that_link_their_reference():
    """README's "Command line" and "DICOM and NIfTI" had grown to 230 and 150 lines of run-on reference: each is now a
    short section, its commands in one block, linking the full reference (docs/CLI.md, docs/SCANS.md) that holds the
    rest."""
    readme = (REPO / "README.md").read_text()
    for heading, reference in (("## Command line", "docs/CLI.md"), ("## DICOM and NIfTI", "docs/SCANS.md")):
        section = readme.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
        assert len(section.strip().splitlines()) <= 60, heading
        assert f"]({reference})" in section and (REPO / reference).is_file(), heading
        assert len(FENCE.findall(section)) == 1, heading
