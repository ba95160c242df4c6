"""predict --resume knows an input again however its folder is named: relative or absolute, by another way round."""

from __future__ import annotations

import pytest
from cli_runner import run_cli
from conftest import encode, synthetic_head

from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")


@pytest.fixture
def scans(tmp_path, monkeypatch):
    """Three images in tmp_path/scans, the working folder tmp_path."""
    (tmp_path / "scans").mkdir()
    for k in range(3):
        (tmp_path / "scans" / f"s{k}.png").write_bytes(encode(synthetic_head(seed=k)))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "scans"


@pytest.mark.parametrize("out", ["r.jsonl", "r.csv"])
@pytest.mark.parametrize("again", ["absolute", "roundabout"])
def test_a_resumed_run_with_the_folder_named_otherwise_adds_nothing(scans, out, again, capsys):
    rc, _, _ = run_cli(["predict", "scans", "-o", out, "--resume"], capsys)
    assert rc == 0
    before = (scans.parent / out).read_bytes()
    name = str(scans) if again == "absolute" else f"../{scans.parent.name}/scans"  # relative, not as first given
    rc, _, err = run_cli(["predict", name, "-o", out, "--resume"], capsys)
    assert rc == 0
    assert "nothing left to do" in err
    assert (scans.parent / out).read_bytes() == before  # every input once, not twice


def test_a_resumed_run_scores_only_the_new_input_under_another_name(scans, capsys):
    run_cli(["predict", "scans", "-o", "r.jsonl", "--resume"], capsys)
    (scans / "s9.png").write_bytes(encode(synthetic_head(seed=9)))
    rc, _, err = run_cli(["predict", str(scans), "-o", "r.jsonl", "--resume"], capsys)
    assert rc == 0
    lines = (scans.parent / "r.jsonl").read_text().splitlines()
    assert len(lines) == 4 and str(scans / "s9.png") in lines[-1]
    assert err.splitlines()[0] == "resuming r.jsonl: 3 records already there"


@pytest.mark.parametrize("out", ["r.jsonl", "r.csv"])
def test_a_file_written_from_another_working_folder_is_refused_not_doubled(scans, out, capsys, monkeypatch):
    """Run in tmp_path as ``scans``, resumed from its parent as ``tmp/scans``: FILE's names, taken from the parent,
    matched nothing, and every input was scored and appended a second time. Refused before any work, saying why."""
    assert run_cli(["predict", "scans", "-o", out, "--resume"], capsys)[0] == 0
    target = scans.parent / out
    before = target.read_bytes()
    monkeypatch.chdir(scans.parent.parent)
    rc, _, err = run_cli(["predict", f"{scans.parent.name}/scans", "-o", str(target), "--resume"], capsys)
    assert rc == 2
    assert err == (f"error: cannot resume: the names in {target} are relative to another working folder (scans/s0.png, "
                   f"for one, is not found from {scans.parent.parent}): run the command from the folder the run was "
                   "started in (or give -o another file)\n")
    assert target.read_bytes() == before


def test_inputs_moved_away_since_or_never_found_do_not_stop_a_resume(scans, capsys):
    """Names whose files were moved out of their folder since (an inbox emptied after each run), or that were never
    found (an error record): from the same working folder FILE is continued, the new input added."""
    assert run_cli(["predict", "scnas", "-o", "r.jsonl", "--resume"], capsys)[0] == 1  # mistyped: an error record
    assert run_cli(["predict", "scans", "-o", "r.jsonl", "--resume"], capsys)[0] == 1  # it is there, with the rest
    for k in range(3):
        (scans / f"s{k}.png").unlink()
    (scans / "s9.png").write_bytes(encode(synthetic_head(seed=9)))
    rc, _, err = run_cli(["predict", "scans", "-o", "r.jsonl", "--resume"], capsys)
    assert rc == 1 and err.endswith("1 unreadable input (0 this run, 1 already in r.jsonl from an earlier run)\n"), err
    lines = (scans.parent / "r.jsonl").read_text().splitlines()
    assert len(lines) == 5 and '"scans/s9.png"' in lines[-1]
