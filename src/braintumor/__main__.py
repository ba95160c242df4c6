"""``python -m braintumor`` (and ``torchrun -m braintumor``) runs the CLI; :func:`main` is the ``braintumor`` script's
entry point too.

Why not ``braintumor.cli:main`` directly: importing the CLI's modules (numpy, Pillow) takes 0.3-1 s, and a Ctrl-C
then printed a KeyboardInterrupt traceback, or, inside a C extension's start-up, numpy's ImportError and exit status
1. Ctrl-C waits here until they are imported and the arguments parsed, then stops the command as it does later:
``interrupted``, 130.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from .stop_signals import signals_held


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``braintumor`` console script and of ``python -m braintumor``."""
    try:
        with signals_held([signal.SIGINT]):  # delivered on the way out, once the imports and the arguments are whole
            from .cli import build_parser
            from .cli_run import run

            args = build_parser().parse_args(argv)  # (argparse's own imports: gettext, locale)
    except KeyboardInterrupt:  # (where signals cannot be held, Windows: it came during the imports)
        print("interrupted", file=sys.stderr)
        return 130
    return run(args)  # as braintumor.cli.main, from here on with the CLI's own handling of Ctrl-C


if __name__ == "__main__":
    sys.exit(main())
