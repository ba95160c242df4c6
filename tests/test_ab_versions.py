"""benchmarks/ab_versions.py loads each slot from its own tree, the same way, and alternates which runs first.

Why: its newer slot was whichever ``braintumor`` came first on ``sys.path`` (always this checkout's), so an "A/A" of
one commit exported twice timed that commit against this checkout and read as a 1.017-1.033x bias (docs/PERFORMANCE.md,
twenty-second round). These tests time nothing: the trees are stand-ins whose predict logs which tree answered.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

STAND_IN = '''
import os
from pathlib import Path
from types import SimpleNamespace

TREE = {tree!r}


class Classifier:
    @classmethod
    def load(cls, model, threads=1):
        return cls()

    def predict(self, path):
        with open(os.environ["AB_LOG"], "a") as fh:
            fh.write(f"{{TREE}} {{Path(path).name}}\\n")
        return SimpleNamespace(label="glioma", ood=False)
'''


def _tree(root: Path, tree: str) -> Path:
    """A src/ folder whose braintumor.predictor is a stand-in naming ``tree``, with stale bytecode beside it."""
    pkg = root / tree / "src" / "braintumor"
    (pkg / "__pycache__").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "predictor.py").write_text(STAND_IN.format(tree=tree))
    (pkg / "__pycache__" / "stale.txt").write_text("bytecode of another interpreter")
    return pkg.parent


@pytest.fixture
def ab_versions():
    """The script's module, with the packages it imports and its sys.path entries removed afterwards."""
    path_before, modules_before = list(sys.path), set(sys.modules)
    sys.path.insert(0, str(REPO / "benchmarks"))
    import ab_versions

    yield ab_versions
    sys.path[:] = path_before
    for name in set(sys.modules) - modules_before:
        if name.startswith(("braintumor_old", "braintumor_new", "ab_versions")):
            del sys.modules[name]


def test_pair_order_alternates_which_slot_runs_first(ab_versions):
    firsts = [ab_versions.pair_order(i, rnd)[0] for rnd in range(2) for i in range(5)]
    assert firsts == ["old", "new", "old", "new", "old", "new", "old", "new", "old", "new"]
    assert all(sorted(ab_versions.pair_order(i, r)) == ["new", "old"] for i in range(4) for r in range(3))


def test_each_slot_runs_its_own_tree_loaded_the_same_way(ab_versions, tmp_path, monkeypatch):
    old, new = _tree(tmp_path, "a"), _tree(tmp_path, "b")
    for cls in ("glioma", "meningioma", "notumor", "pituitary"):
        (tmp_path / "data" / "Testing" / cls).mkdir(parents=True)
        (tmp_path / "data" / "Testing" / cls / f"{cls}.jpg").write_bytes(b"")
    monkeypatch.setenv("AB_LOG", str(tmp_path / "log"))
    out = tmp_path / "ab.json"
    assert ab_versions.main(["--old", str(old), "--new", str(new), "--data", str(tmp_path / "data"),
                             "--rounds", "1", "--json", str(out)]) == 0
    trees = {name: sys.modules[f"{package}.predictor"] for name, package in ab_versions.SLOTS.items()}
    assert {name: mod.TREE for name, mod in trees.items()} == {"old": "a", "new": "b"}
    copies = {Path(mod.__file__).parent for mod in trees.values()}
    assert len(copies) == 2 and len({c.parent for c in copies}) == 1  # both copied into one folder
    lines = (tmp_path / "log").read_text().split()
    calls = list(zip(lines[0::2], lines[1::2], strict=True))  # (tree, image): 4 warm-up pairs, then the 4 timed ones
    assert [t for t, _ in calls] == ["a", "b", "b", "a", "a", "b", "b", "a"] * 2  # each image by both, first in turn
    assert all(x[1] == y[1] for x, y in zip(calls[0::2], calls[1::2], strict=True))  # one image per pair
    doc = json.loads(out.read_text())
    assert doc["old"] == str(old) and doc["new"] == str(new) and doc["agree"] == doc["n"] == 4


def test_aa_times_the_new_tree_in_both_slots(ab_versions, tmp_path, monkeypatch, capsys):
    new = _tree(tmp_path, "b")
    for cls in ("glioma", "meningioma", "notumor", "pituitary"):
        (tmp_path / "data" / "Testing" / cls).mkdir(parents=True)
        (tmp_path / "data" / "Testing" / cls / "x.png").write_bytes(b"")
    monkeypatch.setenv("AB_LOG", str(tmp_path / "log"))
    assert ab_versions.main(["--aa", "--new", str(new), "--data", str(tmp_path / "data"), "--rounds", "1"]) == 0
    assert set((tmp_path / "log").read_text().split()[0::2]) == {"b"}
    assert "A/A: new is " in capsys.readouterr().out
    with pytest.raises(SystemExit):
        ab_versions.main(["--aa", "--old", str(new), "--new", str(new)])
