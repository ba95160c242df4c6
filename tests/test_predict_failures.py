"""``braintumor predict`` when something fails mid-run: a full disk, an input folder that changes under it, a log that
cannot be written, a Ctrl-C from the terminal. One precise line, no traceback, nothing half-written, nothing lost."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def _real_images(data_root: Path, folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for p in sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[:n]:
        out.append(folder / p.name)
        shutil.copy(p, out[-1])
    return out


def test_a_heat_map_that_cannot_be_written_is_named_not_the_results_file(data_root, tmp_path):
    """A disk full under --heatmap said ``No space left on device (writing out.jsonl)``: the results file, on another
    disk with room to spare, was blamed; now the heat map is named, the results file of an earlier run is kept as it
    was, and no temporary file is left."""
    resource = pytest.importorskip("resource", reason="no file size limits to set on this system")
    image = _real_images(data_root, tmp_path / "in", 1)[0]
    out, maps = tmp_path / "out.jsonl", tmp_path / "maps"
    out.write_text("earlier results\n")

    def small_files() -> None:  # the kernel refuses to grow any file past 4 kB: the heat map (~30 kB), not the record
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    done = subprocess.run([sys.executable, "-m", "braintumor", "predict", str(image), "-o", str(out), "--heatmap",
                           str(maps)], env=ENV, capture_output=True, text=True, timeout=120, preexec_fn=small_files)
    assert (done.returncode, done.stderr) == (1, f"error: File too large: {maps / 'Te-glTr_0000.heatmap.png'}\n")
    assert out.read_text() == "earlier results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "maps", "out.jsonl"] and not list(maps.iterdir())
