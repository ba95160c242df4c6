"""scripts/robustness.py's table: a perturbation whose every image is refused has no accuracy of the accepted.

Why: the row printed "nan%" there (inverted intensities, which the model refuses on every Testing slice), and
docs/RESULTS.md's robustness table had to be hand-edited to "(none accepted)"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import REPO


def _run(data, only: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    done = subprocess.run([sys.executable, "scripts/robustness.py", "--data", str(data), "--only", only], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done.stdout


def test_a_row_with_every_image_refused_says_none_accepted(data_root, tmp_path):
    for name, folder in (("Te-gl_0010.jpg", "glioma"), ("Te-me_0010.jpg", "meningioma"),
                         ("Te-no_0010.jpg", "notumor"), ("Te-pi_0010.jpg", "pituitary")):
        (tmp_path / "Testing" / folder).mkdir(parents=True)
        shutil.copy(data_root / "Testing" / folder / name, tmp_path / "Testing" / folder / name)
    (row,) = [line for line in _run(tmp_path, "inverted").splitlines() if line.startswith("inverted intensities")]
    assert row.split()[2:5] == ["0.00%", "100.00%", "(none"] and "(none accepted)" in row and "nan" not in row
    (row,) = [line for line in _run(tmp_path, "none").splitlines() if line.startswith("none (original file)")]
    assert row.split()[3:6] == ["100.00%", "0.00%", "100.00%"], row  # accepted ones still get their accuracy
