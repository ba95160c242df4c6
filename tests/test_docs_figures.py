"""The figures README.md and docs/RESULTS.md quote against what their commands measure, where that is cheap: the
shipped files' sizes and parameters, the committed report's metrics (what `braintumor evaluate --out docs/evaluation
--run models` wrote), the set-up command CI runs, and the API answer the README shows. A number that drifts from its
command fails here instead of misleading a reader."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import REPO

from braintumor.model_files import default_model_path

MODEL = default_model_path()
INT8 = MODEL.with_name("braintumor-tumornet-s-int8.onnx")
pytestmark = pytest.mark.skipif(not INT8.exists(), reason=f"no shipped models at {MODEL.parent}")


def prose(doc: str) -> str:
    """The doc with every run of white space one space, so that a figure a line break splits is found."""
    return " ".join((REPO / doc).read_text().split())


def pct(x: float, digits: int = 2) -> str:
    """A share as the docs write it: 99.47 %, 100 % (not 100.00 %)."""
    text = f"{100 * x:.{digits}f}"
    return ("100" if float(text) == 100 else text) + " %"


def test_readme_sizes_and_parameters_are_the_shipped_files():
    """The results table gave sizes and parameter counts with no command; RESULTS still gave the int8 copy's size from
    before the orientation check (1.63 MB, now 1.79). The table's figures are the files' and their metadata's."""
    import onnx

    from braintumor.orientation import PREFIX
    from braintumor.predictor import Classifier

    text = prose("README.md")
    row = re.search(r"\| ([\d.]+) MB ONNX, ([\d.]+) M parameters \(\+([\d.]+) M: the orientation check\)", text)
    int8_row = re.search(r"int8 copy \(this repo, fast option\) \| ([\d.]+) MB ONNX", text)
    check = sum(int(np.prod(t.dims)) for t in onnx.load(str(MODEL)).graph.initializer if t.name.startswith(PREFIX))
    assert row and int8_row
    assert row.groups() == (f"{MODEL.stat().st_size / 1e6:.2f}",
                            f"{Classifier.load(MODEL).metadata['num_parameters'] / 1e6:.2f}", f"{check / 1e6:.2f}")
    assert int8_row.group(1) == f"{INT8.stat().st_size / 1e6:.2f}"
    assert f"`ls -l models/*.onnx`: {MODEL.stat().st_size:,} and {INT8.stat().st_size:,} bytes" in text
    results = prose("docs/RESULTS.md").split("| int8 copy of the shipped model", 1)[1].split(" |", 1)[0]
    assert f"; {INT8.stat().st_size / 1e6:.2f} MB" in results

