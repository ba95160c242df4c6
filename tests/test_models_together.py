"""Several model files rewritten together (:mod:`braintumor.models_together`): both or neither."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from braintumor import models_together


def _failing_at_second_move(monkeypatch: pytest.MonkeyPatch) -> None:
    """put_in_place moves the first file and raises ENOSPC at the second (a full disk at the last rename)."""
    real = models_together.put_in_place
    calls = []

    def put(tmp, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(tmp, target)

    monkeypatch.setattr(models_together, "put_in_place", put)


@pytest.mark.parametrize("linked", [False, True], ids=["file", "link"])
def test_a_failed_second_move_puts_the_first_back(tmp_path, monkeypatch, linked):
    """The second file's final move failing left the first rewritten: a float file and its int8 copy that refused
    different slices. Now the first is put back (a link's target too), and no temporary folder is left."""
    first, second = tmp_path / "a.onnx", tmp_path / "b-int8.onnx"
    first.write_bytes(b"first, earlier")
    second.write_bytes(b"second, earlier")
    if linked:  # a link to the model: written through, and put back through it
        (tmp_path / "real.onnx").write_bytes(b"first, earlier")
        first.unlink()
        first.symlink_to("real.onnx")
    _failing_at_second_move(monkeypatch)
    with pytest.raises(OSError, match="No space left"), models_together.rewritten_together([first, second]) as paths:
        for path in paths:
            path.write_bytes(b"new")
    assert (first.read_bytes(), second.read_bytes()) == (b"first, earlier", b"second, earlier")
    assert first.is_symlink() == linked
    assert sorted(os.listdir(tmp_path)) == sorted(["a.onnx", "b-int8.onnx", *(["real.onnx"] if linked else [])])


def test_both_are_rewritten_when_every_move_succeeds(tmp_path):
    models = [tmp_path / "a.onnx", tmp_path / "b.onnx"]
    for m in models:
        m.write_bytes(b"old")
    with models_together.rewritten_together(models) as paths:
        for path in paths:
            Path(path).write_bytes(b"new")
    assert [m.read_bytes() for m in models] == [b"new", b"new"]
    assert sorted(os.listdir(tmp_path)) == ["a.onnx", "b.onnx"]
