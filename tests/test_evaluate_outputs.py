"""What evaluate's outputs say beside the numbers: the console's notes and the figures' titles must describe
exactly what was measured (stand-in models and a few real images, as tests/test_evaluate.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_evaluate import DATA, TESTING, FakeClassifier, small_data  # noqa: F401 - small_data: a fixture

from braintumor.evaluate import run_evaluate
from braintumor.predictor import Classifier

pytestmark = pytest.mark.skipif(not TESTING.is_dir(), reason=f"dataset not found at {DATA}")


def test_a_class_whose_every_image_is_unreadable_is_said_to_have_none_scored(small_data: Path, tmp_path: Path,  # noqa: F811
                                                                             capsys, monkeypatch):
    """A class folder of corrupt files only: its recall and AUC are n/a in metrics.json and the report, but the
    console's "no images of ..." line looked at the files listed, not those read, and said nothing."""
    root = tmp_path / "data"
    for name in ("glioma", "notumor", "pituitary"):
        shutil.copytree(small_data / "Testing" / name, root / name)
    (root / "glioma" / "zz_broken.jpg").unlink()
    (root / "meningioma").mkdir()
    (root / "meningioma" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    assert run_evaluate(None, str(root), str(tmp_path / "out"), progress=False, leak_free=False) == 0
    printed = capsys.readouterr().out
    assert f"no readable images of meningioma in {root}: their recall and AUC are n/a" in printed
