"""Every benchmark and script still starts: ``--help`` of each exits 0 without a traceback.

Why: they are run by hand from a clone, so moving a function inside the package (``load_prepared`` went from
``braintumor.data`` to ``braintumor.prepared_images``) can break one's imports unseen until someone reruns it.
``--help`` imports the whole script and builds its parser but does no work; the scripts run as subprocesses
(the checkout's ``src`` first, as ``benchmarks/_common.py`` puts it), a few at a time to keep this fast.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in [*REPO.glob("benchmarks/*.py"), *REPO.glob("scripts/*.py")] if p.name != "_common.py")
AT_ONCE = 4


def _env(path: str | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    env["PYTHONPATH"] = path or os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    return env


def help_outputs(scripts: list[Path], timeout: float = 120) -> dict[Path, tuple[int, str, str]]:
    """(exit status, stdout, stderr) of ``python SCRIPT --help`` for each script, ``AT_ONCE`` running at a time."""
    return outputs({script: [str(script), "--help"] for script in scripts}, timeout)


def outputs(commands: dict, timeout: float = 120, path: str | None = None) -> dict:
    """(exit status, stdout, stderr) of ``python *ARGS`` for each key's ARGS, ``AT_ONCE`` running at a time;
    ``path``: the PYTHONPATH instead of the checkout's src."""
    waiting, running, done = list(commands), {}, {}
    deadline = time.monotonic() + timeout
    while waiting or running:
        while waiting and len(running) < AT_ONCE:
            script = waiting.pop(0)
            running[script] = subprocess.Popen([sys.executable, *commands[script]], cwd=REPO, env=_env(path),
                                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                               stderr=subprocess.PIPE, text=True)
        for script, proc in list(running.items()):
            if proc.poll() is not None or time.monotonic() > deadline:
                if proc.poll() is None:
                    proc.kill()  # --help that does real work (a broken parser) must not run on
                out, err = proc.communicate()
                done[script] = (proc.returncode, out, err)
                del running[script]
        time.sleep(0.02)
    return done


def test_there_are_scripts_to_check():
    names = {p.name for p in SCRIPTS}
    assert {"latency.py", "load_test.py", "time_to_accuracy.py", "ood_eval.py", "split_leaks.py"} <= names


@pytest.fixture(scope="module")
def helps(tmp_path_factory) -> dict[Path, tuple[int, str, str]]:
    """Every script's ``--help``, run once for the tests below with another braintumor first on the path."""
    path = tmp_path_factory.mktemp("other")
    other = path / "braintumor"
    other.mkdir()
    (other / "__init__.py").write_text("raise ImportError('another braintumor, not the checkout beside the script')\n")
    return outputs({script: [str(script), "--help"] for script in SCRIPTS}, path=str(path))


def test_every_benchmark_and_script_answers_help_without_a_traceback(helps):
    """Run with another braintumor first on the path (a release from PyPI, another clone's editable install): the
    scripts must import the checkout's own code beside them (scripts/_checkout.py, benchmarks/_common.py). Until
    2026-12-06 the ones in scripts/ and two benchmarks imported that other copy, so they measured other code."""
    failed = []
    for script, (code, out, err) in helps.items():
        name = script.relative_to(REPO).as_posix()
        # a helper named without "_" (benchmarks/load_clients.py) is run by hand too: it said nothing to --help
        answers = '__name__ == "__main__"' in script.read_text() or not script.name.startswith("_")
        if code == 1 and err.startswith(f"error: {script.name} needs torch, which the core install leaves out") \
                and importlib.util.find_spec("torch") is None:  # the training benchmarks' one line without it
            continue
        if code != 0 or "Traceback" in out + err or (answers and not (out + err).strip()):
            failed.append(f"{name}: exit {code}\n{(err or out)[-1500:]}")
    assert not failed, "\n\n".join(failed)


def undescribed_options(help_text: str) -> list[str]:
    """The entries of an argparse ``--help`` (its "options:" and "positional arguments:") that say nothing but their
    name: ``--data DATA`` alone on its line, with no help text beside or under it."""
    missing, current, in_section = [], None, False
    for line in [*help_text.splitlines(), ""]:
        if not line.startswith(" "):  # a section's heading, a blank line or text: ends the entry and maybe the section
            missing += [current] if current else []
            current, in_section = None, line.rstrip().endswith(("arguments:", "options:"))
        elif in_section and not line.startswith("   "):  # a new entry: its name, then its help after 2+ spaces
            missing += [current] if current else []
            name, _, said = line.strip().partition("  ")
            current = None if said.strip() else name
        elif in_section:  # the help, on the lines under a long name
            current = None
    return missing


def test_undescribed_options_are_found():
    """The check itself, on argparse's own layout: help beside the name, under a long one, and none."""
    import argparse

    ap = argparse.ArgumentParser(prog="x")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--data", default="d")
    ap.add_argument("--seed", type=int, help="random seed")
    ap.add_argument("--a-very-long-option-name", metavar="ANOTHER_LONG_NAME", help="said under it")
    ap.add_argument("--json")
    assert undescribed_options(ap.format_help()) == ["paths", "--data DATA", "--json JSON"]


def test_every_option_of_every_script_says_what_it_does(helps):
    """A student running ``python scripts/ood_eval.py --help`` read ``--model MODEL``, ``--data DATA`` and
    ``--json JSON`` with no word on what they take or default to; 59 options of 27 scripts were bare until
    2026-12-06 (``--split``, ``--warmup``, ``--rounds``, ``--method``, ``--client``...)."""
    bare = {}
    for script, (code, out, _) in helps.items():
        if code == 0 and (missing := undescribed_options(out)):
            bare[script.relative_to(REPO).as_posix()] = missing
    assert bare == {}


def test_a_broken_import_is_caught(tmp_path):
    """The check itself: a script whose import no longer exists fails it (as load_prepared's move would have)."""
    broken = tmp_path / "broken.py"
    broken.write_text("import argparse\nfrom braintumor.data import load_prepared\n"
                      "argparse.ArgumentParser().parse_args()\n")
    code, _, err = help_outputs([broken])[broken]
    assert code != 0 and "Traceback" in err and "load_prepared" in err


def test_a_wrong_run_or_data_folder_is_one_error_line(tmp_path):
    """A --run without split.json, or a --data without the dataset, was a traceback (FileNotFoundError, KeyError,
    DatasetError) in each of these until 2026-12-06."""
    nowhere = str(tmp_path / "nowhere")
    commands = {
        "flip_check": ["scripts/flip_check.py", "--run", nowhere],
        "framing_check": ["scripts/framing_check.py", "--model", "models/braintumor-tumornet-s.onnx", "--run", nowhere,
                          "--set", "val"],
        "held_out_source": ["scripts/held_out_source.py", "--run", nowhere],
        "robustness": ["scripts/robustness.py", "--split", "val", "--run", nowhere],
        "int8_check": ["benchmarks/int8_check.py", "--run", nowhere],
        "ood_eval": ["scripts/ood_eval.py", "--data", nowhere],
        "orientation_eval": ["scripts/orientation_eval.py", "--data", nowhere],
        "orientation_eval --run": ["scripts/orientation_eval.py", "--run", nowhere],
    }
    for name, (code, _, err) in outputs(commands).items():
        assert code != 0 and "Traceback" not in err, f"{name}: exit {code}\n{err[-1500:]}"
        assert err.startswith("error: ") and err.count("\n") == 1 and nowhere in err, f"{name}: {err}"
        if "--run" in commands[name]:  # says what --run takes, not only "[Errno 2] ... split.json" (until 2026-12-07)
            assert "--run takes the run folder" in err and "Errno" not in err, f"{name}: {err}"


def test_int8_check_on_another_dataset_points_at_data(tmp_path):
    """The shipped run's images missing under --data was "error: file not found: .../Tr-gl_0709.jpg" until
    2026-12-07: true, but silent on which option was wrong."""
    other = tmp_path / "other"
    (other / "Training" / "glioma").mkdir(parents=True)
    code, _, err = outputs({"int8": ["benchmarks/int8_check.py", "--data", str(other)]})["int8"]
    assert code != 0 and "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("error: the run's images are not under --data ") and str(other) in err, err


def test_a_scripts_output_into_a_missing_folder_is_refused_before_the_run(tmp_path):
    """skull_stripped.py's --json made any missing folders, at the end of its run (report.write_text_atomic), and the
    other scripts' --json failed there with "No such file or directory" after it: their numbers were lost. Now each
    script's file output is checked as its options are read (_image_set.output_file), before any work."""
    missing = tmp_path / "typo"
    takes = [p for p in REPO.glob("scripts/*.py") if not p.name.startswith("_")
             and ('"--json"' in (text := p.read_text()) or "add_image_set_options(" in text)]
    assert {"ood_eval.py", "skull_stripped.py", "heatmap_eval.py", "held_out_source.py"} <= {p.name for p in takes}
    commands = {p.name: [str(p), "--json", str(missing / "n.json")] for p in takes}
    commands["skull_stripped.py --gallery"] = ["scripts/skull_stripped.py", "--gallery", str(missing / "g.png")]
    said = f"there is no folder {missing} (none is made: create it first, or correct the path)"
    for name, (code, _, err) in outputs(commands).items():
        assert code == 2 and said in err and "Traceback" not in err, f"{name}: exit {code}\n{err[-1500:]}"
    assert not missing.exists()


def _without(tmp_path: Path, *modules: str) -> str:
    """A PYTHONPATH whose ``sitecustomize`` makes ``modules`` unimportable, as in the core install (README's first
    command), which brings neither matplotlib, scipy nor scikit-image."""
    (tmp_path / "sitecustomize.py").write_text(f"import sys\nsys.modules.update(dict.fromkeys({modules!r}))\n")
    return str(tmp_path)


def _one_slice_per_class(data_root: Path, root: Path) -> Path:
    """A Testing split of one real slice per class under ``root``, so that a script's run takes seconds."""
    for folder in ("glioma", "meningioma", "notumor", "pituitary"):
        (root / "Testing" / folder).mkdir(parents=True)
        shutil.copy(sorted((data_root / "Testing" / folder).glob("*.jpg"))[0], root / "Testing" / folder)
    return root


def test_a_script_missing_a_package_of_an_extra_names_the_extra(data_root, tmp_path):
    """In the core install, README's `python scripts/clinician_inputs.py` ended in a ModuleNotFoundError traceback
    (matplotlib) after 10 s of work, `python scripts/skull_stripped.py` in one at its import (scipy, declared nowhere)
    and `python benchmarks/time_to_accuracy.py` in one at its import (torch): now one ``error:`` line naming the
    package and the extra that installs it, and skull_stripped's ``--help`` works without scipy."""
    mini = _one_slice_per_class(data_root, tmp_path / "data")
    commands = {"skull_stripped": ["scripts/skull_stripped.py", "--data", str(mini), "--int8", ""],
                "skull_stripped --help": ["scripts/skull_stripped.py", "--help"],
                "clinician_inputs": ["scripts/clinician_inputs.py", "--no-head-runs", "--no-dicom", "--montages", "0",
                                     "--only", "colour photo (matplotlib's grace_hopper.jpg)"],
                "time_to_accuracy": ["benchmarks/time_to_accuracy.py", "--help"]}
    done = outputs(commands, path=_without(tmp_path, "scipy", "matplotlib", "skimage", "torch"))
    expected = {"skull_stripped": 'skull_stripped.py needs scipy, which the core install leaves out: '
                                  'pip install -e ".[dev]"',
                "clinician_inputs": 'clinician_inputs.py needs matplotlib, which the core install leaves out: '
                                    'pip install -e ".[eval]"',
                "time_to_accuracy": 'time_to_accuracy.py needs torch, which the core install leaves out: '
                                    'pip install -e ".[train]"'}
    for name, said in expected.items():
        code, _, err = done[name]
        assert code == 1 and err.startswith(f"error: {said} (from the clone)") and err.count("\n") == 1, err[-1500:]
    assert done["skull_stripped --help"][0] == 0


def test_a_command_missing_a_package_of_an_extra_names_the_extra(tmp_path):
    """The commands' ModuleNotFoundError line (cli_run) takes the extra from the scripts' table, cli_checks.EXTRAS:
    one home for which extra installs which package."""
    commands = {"train": ["-m", "braintumor", "train", "--out", str(tmp_path / "run")],
                "export": ["-m", "braintumor", "export", "models", "--out", str(tmp_path / "m.onnx")]}
    done = outputs(commands, path=_without(tmp_path, "torch", "onnx") + os.pathsep + str(REPO / "src"))
    for name, package in (("train", "torch"), ("export", "onnx")):
        code, _, err = done[name]
        assert (code, err) == (2, f"error: {package} is not installed; pip install 'braintumor[train]'\n"), err[-1500:]
    assert not (tmp_path / "run").exists() and not (tmp_path / "m.onnx").exists()


def test_ood_eval_says_the_sample_images_it_could_not_build(data_root, tmp_path):
    """Without scikit-image and matplotlib, `python scripts/ood_eval.py` scored 31 OOD images, not README's 248, and
    printed its AUROC (0.9886 against 0.9901) without a word on why: now a note on stderr names what is missing."""
    mini = _one_slice_per_class(data_root, tmp_path / "data")
    command = {"ood_eval": ["scripts/ood_eval.py", "--data", str(mini)]}
    code, out, err = outputs(command, path=_without(tmp_path, "skimage", "matplotlib"))["ood_eval"]
    shown = re.search(r"^all OOD +(\d+) ", out, re.M)
    assert code == 0 and shown, err[-1500:]
    assert err == (f"note: scikit-image and matplotlib not installed: the out-of-distribution set lacks their sample "
                   f"images ({shown.group(1)} images; docs/RESULTS.md's figures hold them): "
                   f'pip install -e ".[eval,dev]"\n')
    if not all(importlib.util.find_spec(name) for name in ("skimage", "matplotlib")):
        pytest.skip("the rest needs scikit-image and matplotlib: the [eval,dev] extras")
    code, _, err = outputs(command)["ood_eval"]  # all there: no note
    assert code == 0 and "note:" not in err, err[-1500:]
