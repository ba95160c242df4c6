"""scripts/split_leaks.py: the near duplicates docs/TRAINING.md counts in Training and across a run's split."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil

from conftest import REPO
from PIL import Image

spec = importlib.util.spec_from_file_location("split_leaks", REPO / "scripts" / "split_leaks.py")
split_leaks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(split_leaks)


def test_it_counts_the_validation_images_beside_a_copy_and_a_grouped_split_has_none(data_root, tmp_path, capsys,
                                                                                   monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # hashes cached here, not in the user's cache
    train = tmp_path / "data" / "Training"
    for c in ("glioma", "meningioma", "notumor", "pituitary"):
        (train / c).mkdir(parents=True)
        for p in sorted((data_root / "Training" / c).glob("*.jpg"))[:4]:
            shutil.copy(p, train / c / p.name)
    glioma, meningioma = (sorted((train / c).iterdir())[0] for c in ("glioma", "meningioma"))
    shutil.copy(glioma, train / "glioma" / "copy.jpg")  # an exact pixel copy
    Image.open(meningioma).save(train / "meningioma" / "copy.jpg", quality=80)  # a near duplicate
    rel = [p.relative_to(train).as_posix() for p in sorted(train.rglob("*.jpg"))]
    val = [glioma.relative_to(train).as_posix(), meningioma.relative_to(train).as_posix()]
    run = tmp_path / "run"
    run.mkdir()
    (run / "split.json").write_text(json.dumps({"val": val, "train": [r for r in rel if r not in val]}))

    assert split_leaks.main(["--data", str(tmp_path / "data"), "--run", str(run), "--seeds", "0", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Training: 18 images; \d+ groups of near duplicates", out)
    assert "2 validation images, 2 (100.0%) with a near duplicate in its training part, 1 of them an exact" in out
    assert len(re.findall(r"seed \d: grouped split \d+ validation images \(.*\), 0 with a near duplicate in its "
                          r"training part; drawn image by image \(--no-group-duplicates\) \d+ \(\d+ exact\)", out)) == 2


def test_a_folder_without_training_images_is_one_error_line(tmp_path, capsys):
    assert split_leaks.main(["--data", str(tmp_path), "--seeds"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
