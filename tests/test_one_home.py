"""One home for each idea: a name is imported from the module that defines it, never through another that imports it.

A re-export kept "for compatibility" (``from .home import name as name``, which ruff's unused-import check lets pass)
made readers wonder where a thing lives, and importers chose either place. Only a place the Python API documents
(:data:`PUBLIC`) may offer a name it does not define; the package's ``__init__`` is that API's front door.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "braintumor"

#: (module, name) offered by a module that imports it, and why that place stays
PUBLIC = {
    ("image_io", "expand_inputs"): "predict_many's folder errors say braintumor.image_io.expand_inputs([folder])",
}


def _module(path: Path) -> str:
    """``web.pages`` for src/braintumor/web/pages.py, ``web`` for its ``__init__``."""
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _from(path: Path, node: ast.ImportFrom) -> str | None:
    """The package module ``node`` imports from (relative to braintumor), None for any other package."""
    if node.level == 0:
        module = node.module or ""
        return module.removeprefix("braintumor").lstrip(".") if module.split(".")[0] == "braintumor" else None
    package = _module(path).split(".") if path.name == "__init__.py" else _module(path).split(".")[:-1]
    package = [p for p in package if p][: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def _sources():
    return sorted(p for folder in ("src", "tests", "scripts", "benchmarks") for p in (REPO / folder).rglob("*.py"))


def _imported_names() -> dict[str, set[str]]:
    """Each package module's names bound by its top-level imports."""
    names = {}
    for path in SRC.rglob("*.py"):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        names[_module(path)] = {a.asname or a.name.split(".")[0] for node in body
                                if isinstance(node, ast.Import | ast.ImportFrom) for a in node.names}
    return names


def _strays() -> set[tuple[str, str, str]]:
    """(where, module, name) of each import of a name through a module that only imports it, and each re-export."""
    imported, found = _imported_names(), set()
    for path in _sources():
        where = path.relative_to(REPO).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or (module := _from(path, node)) in (None, ""):
                continue
            for alias in node.names:
                if alias.name in imported.get(module, ()):
                    found.add((f"{where}:{node.lineno}", module, alias.name))
                if alias.asname == alias.name and SRC in path.parents:
                    found.add((f"{where}:{node.lineno} re-exports", _module(path), alias.name))
    return found


def test_every_name_is_imported_from_its_home():
    strays = _strays()
    assert sorted(s for s in strays if (s[1], s[2]) not in PUBLIC) == []
    assert sorted(PUBLIC.keys() - {(s[1], s[2]) for s in strays}) == []  # the list stays honest
