"""How a script of scripts/ or benchmarks/ starts and ends: one ``error:`` line, not a traceback, for a wrong argument
or a package its extra installs; and which extra installs each package (the CLI's commands say it too).

Why its own module: the scripts share it, apart from the CLI's checks of its destinations (:mod:`braintumor.cli_checks`,
where it was, at the 300-line limit; every caller imports these names from here, their one home).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import NoReturn

from .data import DatasetError
from .image_io import ImageError

#: the extra that installs each package a command, or a script of scripts/ or benchmarks/, may import beyond the core
#: install (README's first command)
EXTRAS = {"matplotlib": "eval", "scipy": "dev", "skimage": "dev", "torch": "train", "onnx": "train",
          "onnxscript": "train"}


def run_script(main: Callable[[], int]) -> NoReturn:
    """Exit with ``main()``'s code; a wrong --run, --data or --model ends a script of scripts/ or benchmarks/ with one
    ``error:`` line and exit code 1, not a traceback (the scripts share this, as the subcommands share the checks)."""
    try:
        sys.exit(main())
    except (DatasetError, ImageError, OSError) as exc:
        sys.exit(f"error: {exc}")


def say_missing_extras() -> None:
    """Make a package of :data:`EXTRAS` that a script lacks one ``error:`` line naming the extra that installs it
    (exit code 1), wherever it is imported, at the top or in ``main``: README's scripts run in the core install
    (README's first command) ended in a ModuleNotFoundError traceback (clinician_inputs.py's matplotlib after 10 s of
    work, skull_stripped.py's scipy, the training benchmarks' torch). Installed by scripts/_checkout.py and
    benchmarks/_common.py, which every script imports first."""
    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        top = (getattr(exc, "name", None) or "").partition(".")[0]
        if not isinstance(exc, ModuleNotFoundError) or top not in EXTRAS:
            return sys.__excepthook__(kind, exc, tb)
        print(f"error: {Path(sys.argv[0]).name} needs {top}, which the core install leaves out: "
              f"pip install -e \".[{EXTRAS[top]}]\" (from the clone)", file=sys.stderr)

    sys.excepthook = hook
