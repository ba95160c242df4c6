"""A dataset folder that may be listed but not entered (``chmod 444``): the dataset, a split in it, or a folder on the
way to it. Each dataset command said "cannot read folder ds: Permission denied" (a closed split named one of its class
folders; a closed folder above ``--data`` was "error: Permission denied: p/ds", exit 1, and ``--reference`` an
"[Errno 13]"); now the folder to open is named with its remedy, in the words predict uses. Run with root's permission
checks dropped (setpriv), as root enters any folder."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import encode, synthetic_head
from test_closed_input_folders import _as_user

from braintumor.classes import CLASSES

LOAD = """
from braintumor.data import DatasetError, load_dataset
from braintumor.evaluation_scope import given_reference
for call in (lambda: load_dataset('a/ds', 'Training'), lambda: load_dataset('b/ds', 'Training'),
             lambda: load_dataset('c/ds', 'Training'), lambda: given_reference('c/ds', None)):
    try:
        call()
    except DatasetError as exc:
        print(exc)
"""


def _dataset(root) -> None:
    for split in ("Training", "Testing"):
        for name in CLASSES:
            (root / split / name).mkdir(parents=True)
            (root / split / name / "a.jpg").write_bytes(encode(synthetic_head(64), "JPEG"))


def test_the_closed_dataset_folder_is_named_with_its_remedy(tmp_path):
    as_user = _as_user()
    for where in "abc":
        _dataset(tmp_path / where / "ds")
    closed = [tmp_path / "a" / "ds", tmp_path / "b" / "ds" / "Training", tmp_path / "c"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for folder in closed:
        folder.chmod(0o444)
    try:
        load = subprocess.run([*as_user, sys.executable, "-c", LOAD], capture_output=True, text=True, env=env,
                              timeout=120, cwd=tmp_path)
        checks = [subprocess.run([*as_user, sys.executable, "-m", "braintumor", "data", "check", "--data", data],
                                 capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
                  for data in ("a/ds", "c/ds")]
    finally:
        for folder in closed:
            folder.chmod(0o755)
    said = load.stdout.splitlines()
    assert len(said) == 4, load.stderr
    assert said[0] == "cannot read folder a/ds: no permission to enter the folder a/ds (chmod u+x)"
    assert said[1].startswith("cannot read folder b/ds/Training/"), said[1]  # a class folder: which is listed first
    assert said[1].endswith(": no permission to enter the folder b/ds/Training (chmod u+x)"), said[1]
    assert said[2] == "cannot read folder c: no permission to enter the folder c (chmod u+x)"
    assert said[3] == f"--reference c/ds: {said[2]}"
    assert [(done.returncode, done.stderr) for done in checks] == [
        (2, "error: cannot read folder a/ds: no permission to enter the folder a/ds (chmod u+x)\n"),
        (2, "error: cannot read folder c/ds: no permission to enter the folder c (chmod u+x)\n")]
