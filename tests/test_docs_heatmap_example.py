"""docs/WEB.md's heat-map example (curl piped into python) run on what the API returns: on a refused or unreadable
image it ended in a KeyError traceback ('heatmap_png_base64'); it says why there is no heat map instead. The
python part is run as the docs write it, on records shaped as the API's (no server, no model)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def example() -> str:
    """The program given to ``python -c`` in the docs' example."""
    block = (REPO / "docs" / "WEB.md").read_text().split("Heat map, saved as a PNG", 1)[1].split("```", 2)[1]
    return re.search(r"python -c '(.*?)'", block, flags=re.S)[1]


def run(results: list[dict], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", example()], input=json.dumps({"results": results}), cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_the_heatmap_example_saves_a_png_and_says_why_when_there_is_none(tmp_path):
    png = b"\x89PNG\r\n\x1a\n fake"
    done = run([{"path": "scan.jpg", "label": "glioma", "heatmap_png_base64": base64.b64encode(png).decode()}],
               tmp_path)
    assert done.returncode == 0 and (tmp_path / "heatmap.png").read_bytes() == png
    (tmp_path / "heatmap.png").unlink()
    refused = {"path": "cat.jpg", "label": None, "ood": True, "reason": "unlike the brain MRI slices the model was "
               "trained on: colour image (MRI slices are grayscale)"}
    for rec, said in ((refused, refused["reason"]), ({"path": "x.jpg", "error": "file is empty"}, "file is empty")):
        done = run([rec], tmp_path)
        assert done.returncode == 1 and done.stderr == f"no heat map: {said}\n", done.stderr
        assert "Traceback" not in done.stderr and not (tmp_path / "heatmap.png").exists()
