"""Arguments a Python user passes by accident: an empty name (an unset variable, an empty cell of a column of paths)."""

from __future__ import annotations

import pytest

from braintumor import Classifier


def test_an_empty_model_name_is_refused_not_read_as_the_shipped_model(monkeypatch):
    """``Classifier.load(os.environ.get("MODEL", ""))`` loaded the shipped model without a word (the CLI refuses
    ``--model ""`` for that reason); None still means $BRAINTUMOR_MODEL, else the shipped one."""
    monkeypatch.delenv("BRAINTUMOR_MODEL", raising=False)
    with pytest.raises(ValueError, match=r"^expected a model file name, got an empty string \(None: "):
        Classifier.load("")
    assert Classifier.load(None).path.name == "braintumor-tumornet-s.onnx"
