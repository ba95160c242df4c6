"""What pyproject.toml declares against what the package imports, and how it is built."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions

import pytest
from conftest import REPO

tomllib = pytest.importorskip("tomllib", reason="Python >= 3.11 reads TOML")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_level(root=REPO / "src" / "braintumor") -> dict[str, str]:
    """{top-level module: a file importing it} for every import outside the standard library and the package."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in (n.split(".")[0] for n in names):
                if top not in sys.stdlib_module_names and top != "braintumor":
                    found.setdefault(top, str(path.relative_to(REPO)))
    return found


def test_every_imported_package_is_declared():
    """werkzeug (the web app's form parser, header parsing, errors) was imported but only arrived through flask."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    declared = {_canonical(re.match(r"[A-Za-z0-9_.-]+", r).group()) for r in requirements}
    providers = packages_distributions()
    missing = {module: where for module, where in _imported_top_level().items()
               if not {_canonical(d) for d in providers.get(module, [module])} & declared}
    assert missing == {}


def test_the_build_backend_is_one_version():
    """``requires = ["hatchling>=1.21"]`` built each wheel (the Docker image's first stage's included) with whatever
    hatchling was newest on the day: two builds of one commit could package it differently, or not at all."""
    build = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]
    assert build["build-backend"] == "hatchling.build"
    assert len(build["requires"]) == 1 and re.fullmatch(r"hatchling==\d+\.\d+\.\d+", build["requires"][0])
