"""How long a run took, as ``train`` says it at its end: it said "done in 0.0 min" of a run of a few seconds."""

from __future__ import annotations

from braintumor.wording import duration_text


def test_a_short_run_is_said_in_seconds_and_a_long_one_in_minutes():
    assert duration_text(2.04) == "2.0 s"
    assert duration_text(0.01) == "0.0 s"
    assert duration_text(59.94) == "59.9 s"
    assert duration_text(60) == "1.0 min"
    assert duration_text(2604) == "43.4 min"
