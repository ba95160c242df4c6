"""How a ``braintumor`` command ends: its exit code and one line on stderr for every way it can stop.

Why its own module: the promise is the same for every command (no traceback, no half-written output), so the ways
a run ends are said once: usage errors (2), a failure of the machine underneath (1), serve's address taken or not yet
there (75), Ctrl-C (130), SIGTERM or SIGHUP (143, 129: ``timeout``, ``docker stop``, a closed terminal), and a reader
that left the pipe.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .atomic_files import remove_temps
from .cli_checks import check_destinations
from .data import DatasetError
from .exit_errors import AddressUnavailable, RunFailed, UsageError
from .missing_files import current_folder_gone
from .model_files import ModelError
from .quiet_libraries import OWN, SHARED, decoders_quiet
from .script_entry import EXTRAS
from .stop_hints import file_stamp, how_to_continue
from .stop_signals import stop_in
from .train_config import ConfigError
from .wording import TOO_DEEP, printable


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, so that every cleanup Ctrl-C runs runs too (without it the
    process died at once and left its temporary files: a predict output, a model, a checkpoint half written)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_at_once_from_now() -> None:
    """A second stop signal of any kind during the cleanups ends the process at once (:func:`_stop_now`): it hung in a
    pool join (a second Ctrl-C, or ``timeout -s INT``, which signals the process and then its group, left ``predict
    --workers`` waiting for its workers for good)."""
    for s in (*_STOP_SIGNALS, signal.SIGINT):
        if signal.getsignal(s) is not signal.SIG_IGN:
            signal.signal(s, _stop_now)


def _stop_now(signum: int, frame: object) -> None:
    """End the process at once, first removing what the cleanups it skips would have: the temporary files of outputs
    being written (the rule: no half-written output, and no hidden debris either) and the worker pool's named
    semaphores (else multiprocessing's resource tracker warned of "leaked semaphore objects"); one line says so."""
    for s in (*_STOP_SIGNALS, signal.SIGINT):  # a third signal ends it, whatever happens here
        if signal.getsignal(s) is not signal.SIG_IGN:
            signal.signal(s, signal.SIG_DFL)
    removed = list(dict.fromkeys(remove_temps()))
    _unlink_semaphores()
    what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    lines = [f"{what} again: stopped at once" + (f", {', '.join(removed)} not written" if removed else "")]
    hint = how_to_continue(_running[-1]) if _running else None
    text = "".join(printable(line) + "\n" for line in lines + ([hint] if hint else []))
    with contextlib.suppress(OSError):  # not print(): this may run inside a print to stderr, which is not reentrant
        os.write(2, text.encode("utf-8", "backslashreplace"))
    if os.name != "nt":  # dies by the signal, as the shell expects of a stopped command
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
    os._exit(128 + signum)


def _unlink_semaphores() -> None:
    """Unlink the named semaphores of multiprocessing's queues and tell its resource tracker, as multiprocessing does
    at a normal exit (the SemLock finalizers). Its private API: where it changed, the tracker still unlinks them when
    the process is gone, with its warning."""
    util, synchronize = (sys.modules.get(f"multiprocessing.{m}") for m in ("util", "synchronize"))
    if util is None or synchronize is None:  # no pool was started
        return
    with contextlib.suppress(Exception):
        for finalizer in list(util._finalizer_registry.values()):
            if getattr(finalizer, "_callback", None) is synchronize.SemLock._cleanup:
                finalizer()


def _raise_terminated(signum: int, frame: object) -> None:
    _stop_at_once_from_now()
    raise Terminated(signum)


def _raise_interrupted(signum: int, frame: object) -> None:
    _stop_at_once_from_now()
    raise KeyboardInterrupt


#: The arguments of the command running now, for :func:`_stop_now`'s hint.
_running: list[argparse.Namespace] = []
_STOP_SIGNALS = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]


@contextmanager
def _signals_stop_like_ctrl_c(args: argparse.Namespace) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    _running.append(args)
    # not a signal the process was started ignoring: nohup's SIGHUP (the run was stopped when the ssh session closed)
    before = {s: signal.signal(s, _raise_terminated) for s in _STOP_SIGNALS
              if signal.getsignal(s) is not signal.SIG_IGN}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where it is ignored (a background job)
        before[signal.SIGINT] = signal.signal(signal.SIGINT, _raise_interrupted)
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
        _running.pop()


def _product_on_stdout(args: argparse.Namespace) -> bool:
    """Whether the command's results are what it prints (``predict`` without ``-o``, ``data check/audit``, which
    write their ``--out`` report before printing): then a reader that leaves the pipe early took what it wanted."""
    return (args.command == "predict" and not getattr(args, "output", None)) or args.command == "data"


def _say(text: str) -> None:
    """One line on stderr; a name it quotes may hold an escape sequence or a newline (shown escaped)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # stderr itself is gone (closed, or None)
        print(printable(text), file=sys.stderr)


def _as_bytes_or_escaped(exc: UnicodeError) -> tuple[str | bytes, int]:
    """The error handler of stdout: a file name's byte that is not UTF-8 (a surrogate escape) is written as that byte,
    as ``ls`` does; any other character the stream's encoding lacks (``PYTHONIOENCODING=ascii``, a cp1252 Windows
    console: a Japanese file name, an em dash in a message) as a Python escape (``\\u65e5``), not a
    UnicodeEncodeError traceback halfway through the results."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text, end = exc.object, exc.start
    escaped = "\udc80" <= text[end] <= "\udcff"
    while end < exc.end and ("\udc80" <= text[end] <= "\udcff") == escaped:  # a run of one kind; the next call the rest
        end += 1
    if escaped:
        return bytes(ord(c) - 0xDC00 for c in text[exc.start:end]), end
    return text[exc.start:end].encode("ascii", "backslashreplace").decode("ascii"), end


STDOUT_ERRORS = "braintumor.stdout"
codecs.register_error(STDOUT_ERRORS, _as_bytes_or_escaped)


def _say_how_to_continue(args: argparse.Namespace) -> None:
    """After a stop, the line that says what was kept and how to go on (:func:`how_to_continue`)."""
    hint = how_to_continue(args)
    if hint:
        _say(hint)


def _stopped(exc: KeyboardInterrupt, args: argparse.Namespace) -> int:
    """The line and exit code of a command that a stop signal ended: 130 after Ctrl-C, 128 + N after SIGTERM or
    SIGHUP (:class:`Terminated`)."""
    signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
    _say("interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}")
    _say_how_to_continue(args)
    return 128 + signum


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; the exit code of however it ended."""
    if sys.stdout is None:  # started with stdout closed (`>&-`)
        to_file = getattr(args, "output", None) or getattr(args, "out", None)
        if _product_on_stdout(args) and not to_file:  # the results would go nowhere
            command = getattr(args, "data_command", None) or args.command  # predict, check or audit
            where = {"predict": "give -o FILE for the results", "audit": "give --out FILE for the report"}.get(
                command, "run it with standard output open")
            _say(f"error: standard output is closed: {where}")
            return 2
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    if sys.stderr is None:  # started with stderr closed (`2>&-`): a forced --progress bar's first write was an
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - AttributeError nobody saw, the results cut short (exit 1)
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is printed as its bytes, as ls does
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors=STDOUT_ERRORS if stream is sys.stdout else "backslashreplace")
    # the last.pt there before the command, told by the file, not its time (one written a second before, or stamped
    # by a clock ahead, passed for this run's): a stopped --overwrite does not offer it (how_to_continue)
    args.earlier_last_pt = file_stamp(getattr(args, "out", None), "last.pt") if args.command == "train" else None
    try:
        # this process's stderr is the command's: the C decoders' lines dropped; serve's threads share it (--debug's
        # server; gunicorn's workers say so themselves, gunicorn_worker.decoders_quiet_in_worker)
        with _signals_stop_like_ctrl_c(args), decoders_quiet(SHARED if args.command == "serve" else OWN):
            check_destinations(args)
            return int(args.func(args) or 0)
    except (UsageError, ConfigError, DatasetError, ModelError, FileNotFoundError) as exc:
        raw = isinstance(exc, OSError) and exc.strerror and exc.filename  # the OS's own, not one of our messages
        gone = isinstance(exc, FileNotFoundError) and not exc.filename and current_folder_gone()  # names nothing
        said = getattr(exc, "cli_text", exc)  # a missing model: --model, not the Python API's words
        _say(f"error: {gone}" if gone else f"error: {exc.strerror}: {exc.filename}" if raw else f"error: {said}")
        return 2
    except ModuleNotFoundError as exc:
        if exc.name in EXTRAS:
            _say(f"error: {exc.name} is not installed; pip install 'braintumor[{EXTRAS[exc.name]}]'")
            return 2
        raise
    except KeyboardInterrupt as exc:  # Ctrl-C, or Terminated: SIGTERM, SIGHUP
        return _stopped(exc, args)
    except ImportError as exc:  # a C extension's start-up (onnxruntime's) words a stop inside it as "initialization
        stop = stop_in(exc)  # failed", caused by the KeyboardInterrupt: a traceback and exit status 1
        if stop is None:
            raise
        return _stopped(stop, args)
    except BrokenPipeError:
        from .predict_output import results_reader_left  # (before stdout, which -o /dev/stdout names, is replaced)

        left = args.command == "predict" and results_reader_left(getattr(args, "output", None))
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if _product_on_stdout(args) or left:  # `braintumor predict DIR | head`: the reader left, not an error
            return 0
        # a log or progress pipe closed under a job that writes files: the job was abandoned, say so by the code
        return 128 + 13  # as if killed by SIGPIPE
    except RunFailed as exc:
        _say(f"error: {exc}")
        return 1
    except AddressUnavailable as exc:
        _say(f"error: {exc}")
        return 75
    except MemoryError:  # a numpy or Pillow allocation the machine cannot give: the machine's limit, not a bug
        _say("error: out of memory (a smaller --batch-size, --image-size or --workers needs less)")
        return 1
    except RecursionError:  # os.walk recurses once per folder level (Python < 3.12): ~1000 levels deep
        _say(f"error: {TOO_DEEP}")  # (predict: only that folder's record)
        return 2
    except OSError as exc:  # the disk filled, a file vanished mid-run: outputs are written whole or not at all
        out = getattr(args, "output", None) or getattr(args, "out", None)  # a failed write names no file itself
        if not out and _product_on_stdout(args):  # `predict DIR > /dev/full`: not a bare "No space left on device"
            out = "standard output"
        where = f": {exc.filename}" if exc.filename else (f" (writing {out})" if out else "")
        _say(f"error: {exc.strerror or exc}{where}")
        _say_how_to_continue(args)  # predict --resume's records so far, train's last epoch: kept, as after Ctrl-C
        return 1
