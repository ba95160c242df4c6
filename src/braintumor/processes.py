"""A Classifier in other processes: forked from the one that loaded it, or sent to one by pickle (``Pool.map``).

Why, fork (multiprocessing's default on Linux before 3.14): an ONNX Runtime session with more than one thread owns a
thread pool, and a forked child inherits the pool but not its threads. Destroying the session in the child joins
threads that do not exist there: the child crashed (SIGSEGV) or hung, at exit or as soon as it replaced the Classifier
(a Pool initializer that loads a fresh one hung the Pool for ever, restarting crashed workers). onnxruntime PR #31961
describes it. So in a child every inherited session is kept alive for good, never destroyed; it still predicts there
(the calling thread does the pool's work, same answers), and a Classifier loaded in the child gets a pool of its own.

Why, pickle: ``Pool().map(clf.predict, paths)`` pickles ``clf``, and an ONNX Runtime session cannot be pickled (a
TypeError from deep inside). A Classifier is sent as its model file, opened again on the other side (once per process
and settings); a file changed since it was loaded is refused there (ModelError). In a process that multiprocessing
started it runs one thread, as ``predict --workers`` does: the processes are the parallelism (two workers of two
threads each on two cores took 2.5x as long); elsewhere (``copy.deepcopy``) it keeps the original's thread count.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import multiprocessing
import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .predictor import Classifier

_live: weakref.WeakSet = weakref.WeakSet()
_opened: dict[tuple[str, int | None, str], Classifier] = {}


def keep_sessions_in_children(classifier: object) -> None:
    """Have processes forked from here keep ``classifier.session`` (whatever it is then) alive to the end."""
    _live.add(classifier)


def _after_fork_in_child() -> None:
    for classifier in list(_live):
        session = getattr(classifier, "session", None)
        if session is not None:  # one reference that nothing releases: not even interpreter shutdown frees it
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(session))


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _digest(metadata: dict) -> str:
    return hashlib.sha256(json.dumps(metadata, sort_keys=True).encode()).hexdigest()


def model_digest(classifier: Classifier) -> str:
    """What another process that opens the same model file checks it against (:func:`load_same`)."""
    return _digest(classifier.metadata)


def load_same(path: str, threads: int | None, digest: str) -> Classifier:
    """The model file at ``path``, opened again in another process, refused (ModelError) unless it is still the model
    whose :func:`model_digest` is ``digest``: replaced in between, the other process scored with another model than
    the one its parent loaded and named."""
    from .model_files import ModelError
    from .predictor import Classifier  # (predictor imports this module)

    classifier = Classifier.load(path, threads=threads)
    if _digest(classifier.metadata) != digest:
        raise ModelError(f"{path} changed since it was loaded: it no longer holds the model in use")
    return classifier


def reduce_classifier(classifier: Classifier, file: Path | None) -> tuple[Any, tuple[str, int | None, str]]:
    """What pickle sends for a Classifier: its model file (``file``: the absolute path it was loaded from; resolved at
    pickling, a relative one named another file once the working folder had changed), thread count and a digest of
    its metadata."""
    if file is None:
        raise TypeError("only a Classifier loaded from a file (Classifier.load) can be pickled or sent to a process")
    threads = classifier.session.get_session_options().intra_op_num_threads or None
    return reopen, (str(file), threads, model_digest(classifier))


def reopen(path: str, threads: int | None, digest: str) -> Classifier:
    """The Classifier a pickle stands for: in a process multiprocessing started, loaded once (every task of a Pool
    unpickles it again) and kept; elsewhere (``copy.deepcopy``) a new one each time, as a copy should be."""
    worker = multiprocessing.parent_process() is not None
    key = (path, 1 if worker else threads, digest)
    if key in _opened:
        return _opened[key]
    try:
        classifier = load_same(path, key[1], digest)
    except FileNotFoundError:  # was the advice of a load: "train and export one, or pass another path"
        from .model_files import ModelError

        raise ModelError(f"{path} is no longer there: a Classifier's copies and the processes it is sent to "
                         "(copy.deepcopy, pickle, a Pool's workers) open its model file again; keep the file while "
                         "they run") from None
    if worker:
        _opened[key] = classifier
    return classifier
