"""Without the optional extras the tests needing torch, onnx, matplotlib or scikit-image skip.

The tiny model's fixture asserted its training run's exit status, so every test using it was an error there, and
test_model.py's module-level ``import torch`` stopped its collection: on Python 3.10 without the [train] extra, 22
test files gave 72 errors (7 files) where nothing was broken. Without matplotlib ([eval]) or onnx ([train]),
`evaluate`'s tests, the OOD set's and the shipped file's failed as well. The packages are blocked in the commands
the tests start too (a ``sitecustomize`` on PYTHONPATH, which children inherit): a test running `braintumor evaluate`
in a subprocess failed in the core install while blocking them in pytest's own process alone let it pass.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from braintumor.script_entry import EXTRAS

REPO = Path(__file__).resolve().parents[1]
#: a file importing torch at the top; one needing the tiny model (conftest's tiny_run); ones whose torch need is a
#: case; the shipped file's graph and quantize (onnx); evaluate and the OOD set (matplotlib); train's refusals, which
#: come after its torch check (conftest's needs_torch); calibrate's, quantize's and export's, after their onnx check;
#: evaluate's dataset notes, after its matplotlib check; ood_eval's count of the samples under 64 px (scikit-image's)
FILES = ["tests/test_model.py", "tests/test_serve_stop.py", "tests/test_training_steps.py",
         "tests/test_cli_path_arguments.py", "tests/test_shipped_model.py", "tests/test_docs_figures.py",
         "tests/test_evaluate_cli.py", "tests/test_ood.py", "tests/test_quantize.py", "tests/test_evaluate_inputs.py",
         "tests/test_evaluate_outputs.py", "tests/test_cli_train_commands.py", "tests/test_dataset_layouts.py",
         "tests/test_cli_destinations.py", "tests/test_ensemble.py", "tests/test_calibrate.py",
         "tests/test_cli_model_commands.py", "tests/test_cli_names.py", "tests/test_export_destinations.py",
         "tests/test_pipeline_export.py", "tests/test_counts_in_words.py", "tests/test_dataset_odd_entries.py",
         "tests/test_cli_encodings.py", "tests/test_benchmark_scripts.py"]
BLOCKED = "import sys\nsys.modules.update(torch=None, onnx=None, matplotlib=None, skimage=None)\n"
#: tests of FILES left out of the run without the extras: the shipped model's accuracy on all 1311 test images needs
#: none of them (its file's other tests load and run the same model there) and was half of this test's time, while
#: the suite itself runs it
NOT_RERUN = ["tests/test_shipped_model.py::test_shipped_model_accuracy_on_the_official_test_split"]


def test_tests_needing_an_extra_skip_without_it(data_root, tmp_path):
    """``sys.modules['torch'] = None`` makes ``import torch`` fail as a missing package does (and find_spec say
    None), installed or not.
    (``data_root``: without the dataset the tiny model skips for that reason instead, proving nothing here.)"""
    (tmp_path / "sitecustomize.py").write_text(BLOCKED)
    path = [str(tmp_path), str(REPO / "src"), os.environ.get("PYTHONPATH")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "--basetemp",
                          str(tmp_path / "t"), *(f"--deselect={test}" for test in NOT_RERUN), *FILES],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    summary = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " skipped" in summary and "error" not in summary and "failed" not in summary, summary
    for name in FILES:  # each file's tests needing an extra were reached and skipped
        assert re.search(rf"^SKIPPED \[\d+\] {name}:", run.stdout, re.M), (name, run.stdout)
    skips = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    unnamed = [line for line in skips if "pip install 'braintumor[" not in line]
    assert unnamed == []  # each skip says which extra to install, not pytest's "could not import 'torch'"


def test_every_skip_for_an_extras_package_names_the_extra():
    """``pytest.importorskip("torch")`` with no reason skipped with "could not import 'torch'", leaving a user of the
    core install to guess the extra: each one in tests/ names it (conftest's extra_reason); the run above checks the
    text for the files it runs, this the call in every file."""
    bare = []
    for path in sorted((REPO / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "importorskip" and node.args
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value.partition(".")[0] in EXTRAS
                    and not any(kw.arg == "reason" for kw in node.keywords)):
                bare.append(f"{path.name}:{node.lineno}")
    assert bare == []
