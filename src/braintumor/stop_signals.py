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
    """``signals`` held inside and delivered on the way out, so that what is done inside is done whole. On the main
    thread only (Python runs its signal handlers nowhere else).

    Two holds, each for what the other misses: their Python handlers only note a signal until the end (blocking it
    in this thread alone did not hold it once the process had other threads, ONNX Runtime's pool, the workers' queue
    feeder: the kernel gave it to one of them and Python ran the handler here all the same, inside), and this thread
    blocks them where the platform can (a process started inside starts with them blocked; a signal left to its
    default action, SIGTERM outside the CLI, waits too while this is the only thread). A handler put back by
    ``signal.signal`` loses SA_RESTART where its owner had set it (gunicorn's sync workers, around a compressed DICOM's
    decode): harmless, as Python retries a system call a signal interrupted (PEP 475)."""
    signals = list(signals)
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    holding = True

    def note(signum: int, frame: object) -> None:
        if holding:
            noted.append(signum)
        else:  # the hold has ended; a handler not yet put back passes it on
            handlers[signum](signum, frame)

    handlers = {s: h for s in signals if callable(h := signal.getsignal(s))}
    for s in handlers:
        signal.signal(s, note)
    block = hasattr(signal, "pthread_sigmask")
    before = signal.pthread_sigmask(signal.SIG_BLOCK, signals) if block else None
    try:
        yield
    finally:
        if block:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)  # one held for this thread arrives now, at note()
        holding = False
        for s, handler in handlers.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(noted):  # in the order they came, each once (a second Ctrl-C here is not "again")
            handlers[s](s, None)


def stop_in(exc: BaseException) -> KeyboardInterrupt | None:
    """The stop signal's exception (KeyboardInterrupt, or SIGTERM's subclass of it) in ``exc``'s chain (its
    ``__cause__`` or ``__context__``, at any depth), if any: a library that catches it mid-work reraises it as its own
    error (onnxruntime's start-up as an ImportError, torch.onnx.export as its own), and the stop must stay a stop."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, KeyboardInterrupt):
            return link
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return None
