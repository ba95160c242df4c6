"""The oldest Python pyproject promises (``requires-python``) can parse every file the project ships or runs.

The suite runs on one interpreter: syntax newer than the promise (``except*``, PEP 695 generics, PEP 701 f-strings
that reuse their own quote) would pass there and be a SyntaxError on import for a user of the oldest version.
``ast.parse(feature_version=...)`` refuses what the parser knows is newer; the f-string check covers what it does
not (on 3.12 and later it accepts PEP 701 f-strings whatever feature_version says).
"""

from __future__ import annotations

import ast
import re
import sys
import tokenize
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("src", "scripts", "benchmarks", "tests")


def _oldest() -> tuple[int, int]:
    """(3, 10) for ``requires-python = ">=3.10"``: read from pyproject, so the test follows the promise."""
    found = re.search(r'^requires-python\s*=\s*">=\s*(\d+)\.(\d+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert found, "pyproject.toml states no requires-python = \">=3.N\""
    return int(found[1]), int(found[2])


def _files() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)


def _nested_fstring_quotes(path: Path) -> list[int]:
    """Lines where a string inside an f-string's braces opens with that f-string's quote: legal from 3.12 only.

    Python 3.12 tokenizes f-strings (FSTRING_START ... FSTRING_END); earlier versions read one STRING token, in which
    such a nested string cannot occur, so there is nothing to check. ``f'''{'a'}'''`` is older Python's too."""
    start = getattr(tokenize, "FSTRING_START", None)
    if start is None:
        return []
    found, quotes = [], []  # quotes: the quote closing each f-string open around the current token
    with path.open("rb") as f:
        for tok in tokenize.tokenize(f.readline):
            if tok.type in (tokenize.STRING, start):
                body = tok.string.lstrip("rRbBuUfF")
                if any(body.startswith(q) for q in quotes):
                    found.append(tok.start[0])
                if tok.type == start:
                    quotes.append(body[:3] if body[:3] in ('"""', "'''") else body[:1])
            elif tok.type == tokenize.FSTRING_END:
                quotes.pop()
    return found


def test_every_file_parses_under_the_oldest_supported_python():
    oldest = _oldest()
    refused = []
    for path in _files():
        try:
            ast.parse(path.read_bytes(), filename=str(path), feature_version=oldest)
        except SyntaxError as exc:
            refused.append(f"{path.relative_to(REPO)}:{exc.lineno}: {exc.msg}")
        refused += [f"{path.relative_to(REPO)}:{line}: a string in an f-string reuses its quote (3.12)"
                    for line in _nested_fstring_quotes(path)]
    assert refused == [], f"not Python {oldest[0]}.{oldest[1]} syntax (pyproject's requires-python):\n" + "\n".join(
        refused)


@pytest.mark.parametrize("source, newer", [
    ("try:\n    pass\nexcept* ValueError:\n    pass\n", "except* (3.11)"),
    ("x = 1\nprint(f'{'a'}')\n", "an f-string reusing its quote (3.12)"),
    ('x = f"""{"""a"""}"""\n', "a triple-quoted f-string reusing its quote (3.12)"),
    ("x = f'{1:{'>'}4}'\n", "a format spec reusing its f-string's quote (3.12)"),
])
def test_the_check_refuses_newer_syntax(tmp_path, source, newer):
    """The check is not vacuous: each of these is refused under 3.10 on this interpreter, whichever it is."""
    path = tmp_path / "newer.py"
    path.write_text(source)
    try:
        ast.parse(source, feature_version=(3, 10))
    except SyntaxError:
        return
    assert sys.version_info >= (3, 12) and _nested_fstring_quotes(path), newer
