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
    assert err == (f"error: cannot resume: the names in {target} are relative to the working folder {scans.parent} "
                   f"(scans/s0.png, for one), not to this one ({scans.parent.parent}): run the command from "
                   f"{scans.parent} (or give -o another file)\n")
    assert target.read_bytes() == before


@pytest.mark.parametrize("out", ["r.jsonl", "r.csv"])
def test_another_folder_holding_the_same_relative_names_is_refused_not_taken_as_done(scans, out, capsys,
                                                                                     monkeypatch):
    """Run in one folder as ``scans``, resumed in another that holds a ``scans`` of the same names (a second copy of a
    study, another site's export): its files counted as those already in FILE, and none was scored. FILE's records
    say the working folder their names are from, and the resume is refused, saying which."""
    assert run_cli(["predict", "scans", "-o", out, "--resume"], capsys)[0] == 0
    target = scans.parent / out
    before = target.read_bytes()
    other = scans.parent / "elsewhere"
    (other / "scans").mkdir(parents=True)
    for k in range(3):
        (other / "scans" / f"s{k}.png").write_bytes(encode(synthetic_head(seed=10 + k)))
    monkeypatch.chdir(other)
    rc, _, err = run_cli(["predict", "scans", "-o", str(target), "--resume"], capsys)
    assert rc == 2
    assert err == (f"error: cannot resume: the names in {target} are relative to the working folder {scans.parent} "
                   f"(scans/s0.png, for one), not to this one ({other}): run the command from {scans.parent} (or give "
                   "-o another file)\n")
    assert target.read_bytes() == before


def test_records_say_the_working_folder_of_relative_names_only(scans, capsys):
    """jsonl: a key; csv: a last column, blank for an absolute name (which says its folder itself)."""
    import csv
    import json

    (scans / "s9.png").write_bytes(encode(synthetic_head(seed=9)))
    for out in ("r.jsonl", "r.csv"):
        assert run_cli(["predict", "scans/s0.png", str(scans / "s9.png"), "-o", out, "--resume"], capsys)[0] == 0
    records = [json.loads(line) for line in (scans.parent / "r.jsonl").read_text().splitlines()]
    assert [r.get("working_folder") for r in records] == [str(scans.parent), None]
    rows = list(csv.reader((scans.parent / "r.csv").read_text().splitlines()))
    assert rows[0][-2:] == ["note", "working_folder"] and [r[-1] for r in rows[1:]] == [str(scans.parent), ""]


@pytest.mark.parametrize("out", ["r.jsonl", "r.csv"])
def test_a_file_from_before_records_said_their_folder_is_still_resumed(scans, out, capsys, monkeypatch):
    """A file whose records do not say their working folder (written before they did) is continued as before: from
    its own folder, the new input appended (a csv's rows in its own columns); from a folder where none of its names
    is, refused."""
    import csv
    import io
    import json

    assert run_cli(["predict", "scans", "-o", out, "--resume"], capsys)[0] == 0
    target = scans.parent / out
    if out.endswith(".jsonl"):
        records = [json.loads(line) for line in target.read_text().splitlines()]
        assert all(r.pop("working_folder") for r in records)
        target.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        rows = list(csv.reader(io.StringIO(target.read_text())))
        assert rows[0][-1] == "working_folder"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(r[:-1] for r in rows)
        target.write_text(buf.getvalue())
    before = target.read_text()
    monkeypatch.chdir(scans.parent.parent)
    rc, _, err = run_cli(["predict", f"{scans.parent.name}/scans", "-o", str(target), "--resume"], capsys)
    assert rc == 2 and "relative to another working folder (scans/s0.png, for one, is not found from" in err
    monkeypatch.chdir(scans.parent)
    (scans / "s9.png").write_bytes(encode(synthetic_head(seed=9)))
    rc, _, err = run_cli(["predict", "scans", "-o", out, "--resume"], capsys)
    assert rc == 0 and "3 records already there" in err, err
    after = target.read_text()
    assert after.startswith(before) and after.count("s9.png") == 1
    if out.endswith(".csv"):  # the rows added keep to its header's columns
        assert {len(row) for row in csv.reader(io.StringIO(after))} == {len(rows[0]) - 1}


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
