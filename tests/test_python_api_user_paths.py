"""Names as a Python user writes them: ``~/scans/a.jpg``, which Python (unlike a shell) does not expand."""

from __future__ import annotations

import pytest
from conftest import encode, synthetic_head

from braintumor import ImageError


def test_a_name_under_an_unexpanded_home_says_that_tilde_is_not_expanded(clf, tmp_path, monkeypatch):
    """``predict("~/scans/a.jpg")`` said "file not found: ~/scans/a.jpg" of a file the user can see there: a
    notebook's habit from the shell. A name whose expansion is not there either is told only that it is not found."""
    from braintumor.volume_io import read_volumes

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "a.png").write_bytes(encode(synthetic_head()))
    for call in (clf.predict, read_volumes):
        with pytest.raises(ImageError, match=r"^file not found: ~/a\.png \(~ is not expanded: os\.path\.expanduser"
                                             r"\(name\) in Python, ~ unquoted in a shell\)$"):
            call("~/a.png")
        with pytest.raises(ImageError, match=r"^file not found: ~/gone\.png$"):
            call("~/gone.png")
    assert clf.predict(tmp_path / "a.png") == clf.predict(synthetic_head())
