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

    # --model: how many of each part the model answers right (docs/TRAINING.md's "all 113 are right ... 456 of the
    # other 458" had no command); here both validation images are beside a duplicate
    from braintumor.model_files import default_model_path
    from braintumor.predictor import Classifier

    model = default_model_path()
    assert split_leaks.main(["--data", str(tmp_path / "data"), "--run", str(run), "--model", str(model),
                             "--seeds"]) == 0
    clf = Classifier.load(model)
    right = sum(max((p := clf.predict(train / r)).probabilities, key=p.probabilities.get) == r.split("/")[0]
                for r in val)
    assert f"{model}: top class right on {right} of the 2 with a near duplicate, 0 of the 0 others" in \
        capsys.readouterr().out


def test_a_folder_without_training_images_is_one_error_line(tmp_path, capsys):
    assert split_leaks.main(["--data", str(tmp_path), "--seeds"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert split_leaks.main(["--data", str(tmp_path), "--model", "m.onnx", "--seeds"]) == 2
    assert capsys.readouterr().err == "error: --model needs --run (whose validation images to score)\n"


def _synthetic_training(root):
    import numpy as np

    rng = np.random.default_rng(0)
    for c in ("glioma", "meningioma", "notumor", "pituitary"):
        (root / "Training" / c).mkdir(parents=True)
        for k in range(2):
            Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8)).save(root / "Training" / c / f"{k}.png")
    return root


def test_a_run_whose_split_names_other_images_is_one_error_line_before_any_hashing(tmp_path, capsys, monkeypatch):
    """--data another dataset than --run's split.json names: a KeyError traceback until 2026-12-06."""
    data = _synthetic_training(tmp_path / "data")
    run = tmp_path / "run"
    run.mkdir()
    (run / "split.json").write_text(json.dumps({"root": "elsewhere/Training", "val": ["glioma/Tr-gl_0012.jpg"],
                                                "train": ["glioma/0.png"]}))
    monkeypatch.setattr(split_leaks, "cached_hashes", lambda ds: (_ for _ in ()).throw(AssertionError("hashed")))
    assert split_leaks.main(["--data", str(data), "--run", str(run), "--seeds"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "lists 1 image that is not under" in err and "Tr-gl_0012.jpg" in err and "elsewhere/Training" in err
    assert split_leaks.main(["--data", str(data), "--run", str(tmp_path / "nothing"), "--seeds"]) == 2
    assert capsys.readouterr().err.startswith(f"error: no split.json in {tmp_path / 'nothing'}: --run takes")


def test_an_older_split_that_lists_only_validation_images_trains_on_the_rest(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = _synthetic_training(tmp_path / "data")
    run = tmp_path / "run"
    run.mkdir()
    (run / "split.json").write_text(json.dumps({"val": ["glioma/0.png", "notumor/1.png"]}))
    assert split_leaks.main(["--data", str(data), "--run", str(run), "--seeds"]) == 0
    out = capsys.readouterr().out
    assert "split.json: 2 validation images, 0 (0.0%) with a near duplicate in its training part" in out
