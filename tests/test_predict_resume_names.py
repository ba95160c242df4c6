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
    assert err.splitlines()[0] == "resuming r.jsonl: 3 record(s) already there"
