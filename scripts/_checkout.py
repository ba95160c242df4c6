"""Imported first by every script in this folder: the checkout's ``src`` wins over any installed braintumor.

Why: the scripts are run by hand from a clone (``python scripts/ood_eval.py``) to measure the code beside them; with
another braintumor installed (a release from PyPI, an editable install of another clone) they silently measured that
one instead. ``benchmarks/_common.py`` does the same for the benchmarks.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from braintumor.script_entry import say_missing_extras  # noqa: E402  (after the path: the checkout's)

say_missing_extras()  # a package of an extra missing: one line naming the extra, not a traceback
