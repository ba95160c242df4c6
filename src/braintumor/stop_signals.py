"""The signals that stop a command, and holding them while something must be done whole (one home: the CLI's output
files and the C decoders' stderr switch both hold them).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

#: What stops a run: Ctrl-C, SIGTERM and SIGHUP (braintumor.cli_run raises the last two where the program is).
STOP_SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)


@contextmanager
def signals_held(signals: Iterable[int] = STOP_SIGNALS) -> Iterator[None]:
    """``signals`` held (blocked) inside and delivered on the way out, so that what is done inside is done whole. On the
    main thread only (Python runs its signal handlers nowhere else) and where the platform can block them."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
