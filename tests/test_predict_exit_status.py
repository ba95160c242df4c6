"""predict's exit status, which a pipeline branches on: said in its --help, and what it says holds (a refusal is an
answer, 0; an unreadable input is a failure, 1, with every record still written)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_runner import run_cli
from conftest import encode, synthetic_head

from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")


def test_predict_help_says_what_each_exit_status_means(capsys):
    with pytest.raises(SystemExit):
        run_cli(["predict", "--help"], capsys)
    text = " ".join(capsys.readouterr().out.split())
    assert ("exit status: 0 every input answered (classified, or not classified: refused), 1 any input unreadable"
            in text)
    assert "2 usage error, 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP" in text


def colour_photo() -> np.ndarray:
    rgb = np.zeros((200, 200, 3), np.uint8)
    rgb[..., 0], rgb[..., 1] = np.arange(200)[None, :], 255 - np.arange(200)[:, None]
    return rgb


def test_a_refused_input_is_an_answer_and_an_unreadable_one_a_failure(tmp_path, capsys):
    (tmp_path / "head.png").write_bytes(encode(synthetic_head()))
    (tmp_path / "photo.png").write_bytes(encode(colour_photo()))
    rc, out, _ = run_cli(["predict", str(tmp_path), "--format", "jsonl"], capsys)
    assert rc == 0
    assert any(json.loads(line)["ood"] for line in out.splitlines())
    (tmp_path / "notes.png").write_text("not an image")
    rc, _, _ = run_cli(["predict", str(tmp_path), "-o", str(tmp_path.parent / "r.jsonl")], capsys)
    assert rc == 1
    records = [json.loads(line) for line in (tmp_path.parent / "r.jsonl").read_text().splitlines()]
    assert [("error" in r) for r in records] == [False, True, False]  # head, notes, photo: all written
