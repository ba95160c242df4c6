"""More of the training-side commands' refusals (tests/test_train_bad_inputs.py holds the first ones): a --cache-dir
that is a file, a run's hand-edited config.json, a dataset short of a class, another model's --metrics."""

from __future__ import annotations

import pytest
from cli_runner import run_cli
from test_train_bad_inputs import _dataset, _one_error, _train

pytest.importorskip("torch")


def test_a_cache_dir_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    """--cache-dir FILE trained, decoding every image, and cached none of them (a warning at the end of decoding at
    best); the next run decoded them all again."""
    data = _dataset(tmp_path / "d")
    cache = tmp_path / "cache.npz"
    cache.write_bytes(b"a file")
    rc, _, err = run_cli(_train(data, tmp_path / "run", cache), capsys)
    assert rc == 2 and _one_error(err) == f"error: --cache-dir {cache} is a file, not a folder: nothing could be " \
                                          "cached in it; name a folder (made if missing)"
    assert not (tmp_path / "run").exists() and cache.read_bytes() == b"a file"
