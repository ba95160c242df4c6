"""``stop_signals.signals_held``: a stop signal waits until what is held is done whole, however many threads run."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from braintumor.stop_signals import signals_held

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")


@pytest.mark.parametrize("nested", [False, True])
def test_a_signal_waits_for_the_hold_while_another_thread_runs(nested):
    """Blocking it in the main thread alone did not hold it once the process had other threads (ONNX Runtime's pool,
    the --workers queue's feeder): the kernel gave it to one of them, and Python ran the handler in the main thread
    all the same, inside the hold (a worker's start, a heat map and its record, fd 2's switch cut in two)."""
    done, steps = threading.Event(), []
    threading.Thread(target=done.wait, daemon=True).start()  # a thread that does not block the signal
    try:
        with pytest.raises(KeyboardInterrupt), signals_held([signal.SIGINT]):
            with signals_held([signal.SIGINT]) if nested else signals_held([]):
                os.kill(os.getpid(), signal.SIGINT)  # to the process, as Ctrl-C's is
                time.sleep(0.2)  # (the handler runs between two steps, where it runs at all)
                steps.append("inner")
            steps.append("outer")
    finally:
        done.set()
    assert steps == ["inner", "outer"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler put back


def test_a_handler_of_its_own_gets_the_signal_at_the_end():
    """The CLI's own handlers (SIGTERM's raises its Terminated) are the ones run at the end, once."""
    got = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
    try:
        with signals_held([signal.SIGTERM]):
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)
            assert got == []
        assert got == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, before)
