"""``braintumor serve``: its options and errors, waitress and --debug by substitution (gunicorn, for real, is in
tests/test_serve_gunicorn.py)."""

from __future__ import annotations

import os
import socket
import sys
import types

import pytest
from serve_process import free_port

from braintumor import serve as serve_mod
from braintumor import web as _web  # noqa: F401 - imported before a test sets sys.platform to win32 (click then wants msvcrt)
from braintumor.cli import build_parser, main
from braintumor.web.dev_server import DevRequestHandler


def test_serve_options():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.model, args.workers, args.debug) == ("127.0.0.1", 5000, None, None, False)
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "8080", "--model", "m.onnx",
                                      "--workers", "3", "--debug"])
    assert (args.host, args.port, args.model, args.workers, args.debug) == ("0.0.0.0", 8080, "m.onnx", 3, True)
    assert args.threads is None and build_parser().parse_args(["serve", "--threads", "1"]).threads == 1


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_serve_threads_must_be_a_positive_whole_number(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["serve", "--threads", bad])
    assert exc.value.code == 2 and "--threads" in capsys.readouterr().err


def test_missing_model_is_one_error_line(tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "nope.onnx")]) == 2
    assert "model file not found" in capsys.readouterr().err


#: What a "model file not found" adds: the shipped files, which --model takes by name alone.
SHIPPED = "; a shipped one by its file name alone: braintumor-tumornet-s-int8.onnx, braintumor-tumornet-s.onnx"


@pytest.mark.parametrize("command", [["serve"], ["predict", "scan.jpg"]])
def test_a_missing_model_named_by_the_environment_says_so(command, monkeypatch, tmp_path, capsys):
    """A stale BRAINTUMOR_MODEL (a container's env) was told 'pass --model', not where the name came from."""
    monkeypatch.setenv("BRAINTUMOR_MODEL", str(tmp_path / "nope.onnx"))
    assert main(command) == 2
    assert capsys.readouterr().err == (f"error: model file not found: {tmp_path / 'nope.onnx'}, named by "
                                       "$BRAINTUMOR_MODEL (train and export one, or pass another path: --model FILE"
                                       f"{SHIPPED})\n")


def test_an_unusable_tmpdir_is_one_error_line_before_serving_is_announced(tiny_model, monkeypatch, tmp_path,
                                                                          capsys):
    """It printed 'serving ... on http://...' and then 'error: [Errno 2] No such file or directory'."""
    def no_exec(*args):
        raise AssertionError("serve went on to start gunicorn")

    monkeypatch.setattr(os, "execv", no_exec)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "gone"))
    assert main(["serve", "--model", str(tiny_model), "--port", str(free_port())]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (f"error: cannot create the workers' metrics folder in {tmp_path / 'gone'}: No such "
                                 "file or directory (set TMPDIR to a writable folder)\n")


def test_a_port_in_use_is_one_error_line(tiny_model, monkeypatch, capsys):
    def no_exec(*args):  # were the check to let it through, gunicorn would replace the test process
        raise AssertionError("serve went on to start gunicorn")

    monkeypatch.setattr(os, "execv", no_exec)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert main(["serve", "--model", str(tiny_model), "--port", str(port)]) == 75  # retried: see the next test
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
    assert main(["serve", "--model", str(tiny_model), "--host", "192.0.2.1"]) == 75  # TEST-NET-1: not ours (yet?)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot listen on 192.0.2.1" in err and "another server" not in err
    assert "not an address of this machine, or not yet: check --host" in err
    assert main(["serve", "--model", str(tiny_model), "--host", "999.1.1.1"]) == 2  # no such address at all
    err = capsys.readouterr().err  # said 'another server on that port?'
    assert err.startswith("error: cannot listen on 999.1.1.1:") and "check --host" in err and "port?" not in err


def test_an_address_or_name_not_there_yet_is_75_a_mistyped_one_2(tiny_model, monkeypatch, capsys):
    """At boot, before DHCP or DNS, the unit's --host may not be this machine's yet: exit 2 stopped systemd from
    retrying (RestartPreventExitStatus=2) a start that would work a few seconds later. Not for what never will."""
    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("serve went on to start gunicorn"))
    real = socket.getaddrinfo

    def no_dns_yet(host, *args, **kwargs):  # the resolver before the network is up
        if host == "braintumor.example":
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_dns_yet)
    assert main(["serve", "--model", str(tiny_model), "--host", "braintumor.example"]) == 75
    assert capsys.readouterr().err == ("error: cannot listen on braintumor.example:5000: Temporary failure in name "
                                       "resolution (a name of this machine? it may resolve once the network is up; "
                                       "check --host)\n")
    for typo in ("999.1.1.1", "a b", "::1:x", "bad_name.example",
                 "x" * 64 + ".example", "a..example"):  # the last two: a traceback (idna's UnicodeError)
        assert main(["serve", "--model", str(tiny_model), "--host", typo]) == 2, typo
        err = capsys.readouterr().err
        assert err.startswith(f"error: cannot listen on {typo}:5000: ") and "check --host: a name or address" in err


def test_a_host_name_the_resolver_says_does_not_exist_is_a_usage_error(tiny_model, monkeypatch, capsys):
    """--host localhots (a typo of a well-formed name) was exit 75, "try again", so systemd (Restart=on-failure) started
    it every 5 s forever: the resolver's "no such name" (EAI_NONAME) and "no address" (EAI_NODATA) are 2, not retried;
    only its "no answer yet" (EAI_AGAIN, the test above) is 75."""
    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("serve went on to start gunicorn"))
    answers = {"localhots": (socket.EAI_NONAME, "Name or service not known"),
               "mail-only.example": (getattr(socket, "EAI_NODATA", socket.EAI_NONAME), "No address associated with "
                                                                                      "hostname")}
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host in answers:
            raise socket.gaierror(*answers[host])
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    for host, (_, said) in answers.items():
        assert main(["serve", "--model", str(tiny_model), "--host", host]) == 2, host
        assert capsys.readouterr().err == (f"error: cannot listen on {host}:5000: {said} (check --host: a name or "
                                           "address of this machine, e.g. 127.0.0.1 or 0.0.0.0)\n")


def test_debug_uses_flasks_dev_server(tiny_model, monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: seen.update(kw))
    assert main(["serve", "--model", str(tiny_model), "--debug", "--port", "5055"]) == 0
    assert seen == {"host": "127.0.0.1", "port": 5055, "debug": True, "use_reloader": False,
                    "request_handler": DevRequestHandler}  # its log as private as gunicorn's: tests/test_server_logs.py
    assert "http://127.0.0.1:5055/" in capsys.readouterr().out


def _fake_waitress(monkeypatch, seen: dict) -> None:
    """serve's waitress server recording its settings in ``seen`` and serving nothing (its run returns at once);
    tests/test_waitress_metrics.py runs the real one."""
    def server(app, **settings):
        seen.update(settings)
        return types.SimpleNamespace(run=lambda: None)

    monkeypatch.setattr(serve_mod, "waitress_server", server)


def test_windows_uses_waitress(tiny_model, monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr(sys, "platform", "win32")
    _fake_waitress(monkeypatch, seen)
    assert serve_mod.serve(model=str(tiny_model), workers=2, port=5056) == 0
    assert seen == {"host": "127.0.0.1", "port": 5056, "threads": 2 * serve_mod.THREADS_PER_WORKER,
                    "channel_timeout": 30, **serve_mod.waitress_buffers(128 * 1024 * 1024)}
    assert "waitress" in capsys.readouterr().out
    assert serve_mod.serve(model=str(tiny_model), workers=2, port=5056, threads=3) == 0
    assert seen["threads"] == 6


def test_waitress_keeps_uploads_and_answers_in_memory(tiny_model, monkeypatch):
    """waitress spools a request body over 512 KB and an answer over 1 MB to temporary files by default (its
    inbuf_overflow and outbuf_overflow): a DICOM series, and the heat maps made of it, on the disk of the server."""
    seen = {}
    monkeypatch.setattr(sys, "platform", "win32")
    _fake_waitress(monkeypatch, seen)
    assert serve_mod.serve(model=str(tiny_model), port=5056, max_upload_mb=8) == 0
    limit = 8 * 1024 * 1024
    assert seen["max_request_body_size"] == limit + 1  # the bound on memory: waitress refuses a Content-Length >= it
    assert seen["inbuf_overflow"] > seen["max_request_body_size"] and seen["outbuf_overflow"] >= 2**62


@pytest.mark.parametrize(("value", "error", "message"), [
    (1e-9, ValueError, "max_upload_mb must be at least 0.001 MiB (about 1 kB), got 1e-09: a smaller limit refuses "
                       "every upload"),
    (0, ValueError, "max_upload_mb must be a number more than 0, got 0"),
    (float("nan"), ValueError, "max_upload_mb must be a finite number more than 0, got nan"),
    (float("inf"), ValueError, "max_upload_mb must be a finite number more than 0, got inf"),
    ("5", TypeError, "max_upload_mb must be a number, got '5'"),
])
def test_the_python_apis_upload_limit_has_the_command_lines_floor(value, error, message, capsys):
    """create_app(max_upload_mb=1e-9) was taken (a limit of 0 bytes: every upload refused; "5" was 5 repeated a million
    times) where `serve --max-upload-mb 1e-9` is refused: one rule now, worded as the command line words it, checked
    by serve() too before any model is loaded or worker started."""
    from braintumor.web import create_app

    for call in (lambda: create_app(max_upload_mb=value), lambda: serve_mod.serve(max_upload_mb=value)):
        with pytest.raises(error) as exc:
            call()
        assert str(exc.value) == message
    if isinstance(value, float) and value > 0:
        with pytest.raises(SystemExit):
            main(["serve", "--max-upload-mb", repr(value)])
        said = capsys.readouterr().err.rstrip()
        assert said.endswith("argument --max-upload-mb: " + message.removeprefix("max_upload_mb ")), said
