"""``braintumor predict --workers N``: units of work scored in N spawned processes, their records in input order.

Apart from the planning and the --resume file (:mod:`braintumor.batch_predict`, which imports ``units_in_order``
and ``score_unit`` from here, was over 300 lines): each worker has its own ONNX Runtime session, spawned (not
fork, nor forkserver whose server would import this package through ``__main__``: onnxruntime starts threads at
import, see serve.py), and results come back through a window of at most ``2 * N`` units in flight, so memory stays
bounded however many files there are (``Pool.imap`` keeps the order, but its feeder thread drains the whole input
generator up front).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from .image_files import ListedFile
from .input_plan import VolumeInput
from .model_files import ModelError
from .predictor import Classifier
from .processes import load_same
from .quiet_libraries import OWN, set_decoders_quiet
from .series import input_records
from .stop_signals import signals_held
from .volume_io import input_volumes

#: A unit of work: image paths (one batch), a volume's path, or a record that needs no model.
Unit = list | str | dict

_worker: dict = {}


class ListedName(str):
    """A unit's image name that a folder's walk listed (a str, as records and the units' other names are): scored as
    its :class:`~braintumor.image_files.ListedFile` again, so that a pipe there since is refused, not waited on."""

    __slots__ = ()


def score_unit(clf: Classifier, unit: Unit, batch_size: int, summaries: bool, pixels: bool) -> list[dict]:
    """The records of one unit: exactly what ``records()`` yields for the same inputs."""
    if isinstance(unit, dict):
        return [unit]
    # a volume is re-planned from its path, so no unpicklable loader has to cross processes
    items = [VolumeInput(unit, lambda: input_volumes(unit))] if isinstance(unit, str) else [
        ListedFile(p) if isinstance(p, ListedName) else Path(p) for p in unit]
    return list(input_records(clf, items, batch_size, summaries, pixels))


def _exit_with(parent: int) -> None:
    """A worker whose parent was killed would wait forever on the task queue: it leaves too."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


#: What a terminal sends its whole process group: Ctrl+C, and SIGHUP when it closes (an ssh session that drops).
_TERMINAL_SIGNALS = {s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGHUP", None)) if s is not None}


@contextmanager
def _terminal_signals_held() -> Iterator[None]:
    """Start processes with the terminal's signals blocked, so that they start blocked there too (a mask survives exec):
    one that came while a worker was still importing printed its KeyboardInterrupt traceback, and SIGHUP killed
    multiprocessing's resource tracker, which warned and printed KeyErrors. Here a signal only waits a moment."""
    with signals_held(_TERMINAL_SIGNALS):
        yield


def _init_worker(parent: int, model: str, digest: str | None, threads: int, batch_size: int, summaries: bool,
                 pixels: bool) -> None:
    """``parent``: the pid of the process that started the pool (not this one's ``getppid()`` at start: a parent that
    died while this was still importing was then init's, and the worker waited on the task queue for good)."""
    for s in _TERMINAL_SIGNALS:  # the parent's to handle (it stops the pool); ignored, then no longer held
        signal.signal(s, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _TERMINAL_SIGNALS)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    set_decoders_quiet(OWN)  # a CLI's worker: the C decoders' lines dropped, as in the CLI's own process
    try:  # the model file the parent loaded, unless it changed since (then every unit is refused with the reason)
        clf = load_same(model, threads, digest) if digest else Classifier.load(model, threads=threads)
    except (ModelError, OSError) as exc:  # raised here it broke the pool: "a worker process stopped unexpectedly"
        _worker.update(refused=exc)
        return
    _worker.update(clf=clf, args=(batch_size, summaries, pixels))


def _work(unit: Unit) -> list[dict]:
    if "refused" in _worker:
        raise _worker["refused"]
    return score_unit(_worker["clf"], unit, *_worker["args"])


def in_order(units: Iterable[Unit], workers: int, model: str, threads: int, batch_size: int,
             summaries: bool, pixels: bool, digest: str | None = None) -> Iterator[dict]:
    """Records of ``units`` scored by ``workers`` processes, in input order (:func:`units_in_order`)."""
    for _, records in units_in_order(units, workers, model, threads, batch_size, summaries, pixels, digest):
        yield from records


def units_in_order(units: Iterable[Unit], workers: int, model: str, threads: int, batch_size: int,
                   summaries: bool, pixels: bool, digest: str | None = None) -> Iterator[tuple[Unit, list[dict]]]:
    """(unit, its records) of ``units`` scored by ``workers`` processes, in input order, at most 2 x workers units
    ahead; with ``digest`` (:func:`~braintumor.processes.model_digest` of the parent's Classifier) a model file that
    changed since the parent loaded it is refused (ModelError), not used."""
    ctx = multiprocessing.get_context("spawn")
    with _terminal_signals_held():  # starts the resource tracker
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(os.getpid(), model, digest, threads, batch_size, summaries, pixels))
    window: deque[tuple[Unit, Future | list[dict]]] = deque()

    def head() -> tuple[Unit, list[dict]]:
        unit, done = window.popleft()
        return unit, done.result() if isinstance(done, Future) else done

    try:
        for unit in units:
            if isinstance(unit, dict):
                window.append((unit, [unit]))
            else:
                with _terminal_signals_held():  # may start a worker
                    window.append((unit, pool.submit(_work, unit)))
            while window and (len(window) > 2 * workers or not isinstance(window[0][1], Future)
                              or window[0][1].done()):
                yield head()
        while window:
            yield head()
    finally:
        for _, f in window:
            if isinstance(f, Future):
                f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
