"""Classifiers in processes forked from the one that loaded them (multiprocessing's default on Linux before 3.14).

Why: an ONNX Runtime session with more than one thread owns a thread pool, and a forked child inherits the pool but
not its threads. Destroying the session in the child joins threads that do not exist there: the child crashed
(SIGSEGV) or hung, at exit or as soon as it replaced the Classifier (a Pool initializer that loads a fresh one hung
the Pool for ever, restarting crashed workers). onnxruntime PR #31961 describes it. So in a child every inherited
session is kept alive for good, never destroyed; it still predicts there (the calling thread does the pool's work,
same answers), and a Classifier loaded in the child gets a pool of its own.
"""

from __future__ import annotations

import ctypes
import os
import weakref

_live: weakref.WeakSet = weakref.WeakSet()


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
