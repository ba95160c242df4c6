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


#: The command line's own modules (cli.py and its helpers, predict's planning, batches and output files, ``serve``'s
#: runner), by name: what serving must never load. Data flows io -> preprocess -> model/predictor -> cli | web.
CLI_MODULE = r"braintumor\.(cli\w*|input_plan|batch_\w+|predict_\w+|datasets_cli|serve)"


def test_serving_loads_none_of_the_command_lines_modules(test_images):
    """The web app (and the predictor and heat map it serves with) takes nothing from the CLI's modules: it loaded
    cli_types (the upload limit's rule), cli_checks (serve_settings' errors), input_plan (volume_io's folder walk)."""
    import subprocess
    import sys

    image = str(test_images["glioma"][0])
    code = f"""
import io, re, sys, zipfile
sys.path.append({str(Path(__file__).parent)!r})  # dicom_factory
import numpy as np
import braintumor.heatmap, braintumor.predictor, braintumor.web
from dicom_factory import make_dicom
client = braintumor.web.create_app().test_client()
assert client.get("/").status_code == 200
r = client.post("/api/v1/predict?heatmap=1", data=open({image!r}, "rb").read(), content_type="image/jpeg")
assert r.status_code == 200 and "heatmap_png_base64" in r.get_json()["results"][0], r.status_code
scan = io.BytesIO()
with zipfile.ZipFile(scan, "w") as zf:
    for i in range(3):
        zf.writestr(f"IM{{i}}", make_dicom((np.random.default_rng(i).random((64, 64)) * 200).astype(np.uint16)))
r = client.post("/api/v1/predict", data={{"file": (io.BytesIO(scan.getvalue()), "s.zip")}})
assert r.status_code == 200 and "error" not in r.get_json()["results"][0], r.get_json()
print(sorted(m for m in sys.modules if re.fullmatch({CLI_MODULE!r}, m)))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
