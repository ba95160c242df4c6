"""An input folder that may be listed but not entered (``chmod 444 p2``): each of its files was "cannot read file:
Permission denied", as if the files were locked, where the folder is what to fix. Now the folder is named, in the
words a destination behind such a folder gets (``no permission to enter the folder p2 (chmod u+x)``). Run with
root's permission checks dropped (setpriv), as root enters any folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import encode, synthetic_head

from braintumor.model_files import default_model_path

MODEL = default_model_path()
DROP = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]


def _as_user() -> list[str]:
    """The command prefix that runs a child without root's right to enter any folder; skips where none can."""
    as_user = DROP if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    if as_user and (not shutil.which("setpriv") or subprocess.run([*as_user, "true"]).returncode):
        pytest.skip("root here, and no setpriv to drop its permission to enter any folder")
    return as_user


@pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
def test_the_folder_that_may_not_be_entered_is_named_not_each_file(tmp_path):
    as_user = _as_user()
    closed = tmp_path / "p2"
    (closed / "sub").mkdir(parents=True)
    (closed / "g0.jpg").write_bytes(encode(synthetic_head(200), "JPEG"))
    (closed / "IM0001.dcm").write_bytes(b"\0" * 128 + b"DICM")
    (closed / "sub" / "g1.jpg").write_bytes(encode(synthetic_head(200), "JPEG"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    said = "no permission to enter the folder p2 (chmod u+x)"
    api = ("from braintumor.image_io import ImageError, read_image\n"
           "try:\n    read_image('p2/g0.jpg')\nexcept ImageError as exc:\n    print(exc)")
    closed.chmod(0o444)
    try:
        done = subprocess.run([*as_user, sys.executable, "-m", "braintumor", "predict", "p2", "--format", "jsonl",
                               "--model", str(MODEL)], capture_output=True, text=True, env=env, timeout=120,
                              cwd=tmp_path)
        python = subprocess.run([*as_user, sys.executable, "-c", api], capture_output=True, text=True, env=env,
                                timeout=120, cwd=tmp_path)
    finally:
        closed.chmod(0o755)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert sorted(map(json.loads, done.stdout.splitlines()), key=lambda r: r["path"]) == [
        {"path": "p2/IM0001.dcm", "error": f"cannot read file: {said}"},
        {"path": "p2/g0.jpg", "error": f"cannot read file: {said}"},
        {"path": "p2/sub", "error": f"cannot read folder: {said}"}]
    assert python.stdout == f"cannot read file: {said}\n", python.stderr
