"""Numbers out of range on the command line (workers, threads, port, upload size, batch size) are usage errors."""

from __future__ import annotations

import pytest

from braintumor.cli import main
from braintumor.cpu_quota import available_cpus
from braintumor.wording import counted

TOO_MANY = f"must be in [1, 256], got 5000 (this process may use {counted(available_cpus(), 'CPU')})"


@pytest.mark.parametrize(("argv", "message"), [
    (["serve", "--workers", "0"], "argument --workers: must be in [1, 64], got 0"),
    (["serve", "--port", "70000"], "argument --port: must be in [1, 65535], got 70000"),  # was gunicorn's traceback
    (["serve", "--max-upload-mb", "0"], "argument --max-upload-mb: must be a number more than 0, got 0"),
    (["serve", "--max-upload-mb", "inf"], "argument --max-upload-mb: must be a finite number more than 0, got inf"),
    # were "must be a number more than 0, got inf", which inf is
    (["serve", "--request-timeout", "inf"], "argument --request-timeout: must be a finite number more than 0, got inf"),
    (["serve", "--client-timeout", "inf"], "argument --client-timeout: must be a finite number more than 0, got inf"),
    (["serve", "--client-timeout", "nan"], "argument --client-timeout: must be a finite number more than 0, got nan"),
    (["serve", "--client-timeout", "-1"], "argument --client-timeout: must be a number more than 0, got -1"),
    (["serve", "--max-upload-mb", "1e-9"],  # was taken: a limit of 0 bytes, every upload refused
     "argument --max-upload-mb: must be at least 0.001 MiB (about 1 kB), got 1e-9: a smaller limit refuses every "
     "upload"),
    (["serve", "--max-upload-mb", "1e9"],  # was taken: a request held in memory with no useful bound
     "argument --max-upload-mb: must be 0.001 to 1024 (MiB), got 1e9: a request is held whole in memory, and 1024 MiB "
     "is twice the largest scan one is read from (512 MiB)"),
    (["serve", "--max-upload-mb", "1024.5"], "argument --max-upload-mb: must be 0.001 to 1024 (MiB), got 1024.5: a "
     "request is held whole in memory, and 1024 MiB is twice the largest scan one is read from (512 MiB)"),
    (["predict", "x.jpg", "--batch-size", "0"], "argument --batch-size: must be in [1, 1024], got 0"),
    (["predict", "x.jpg", "--threads", "-1"], "argument --threads: must be in [1, 256], got -1"),  # was taken
    (["predict", "x.jpg", "--threads", "5000"], f"argument --threads: {TOO_MANY}"),  # hung for half a minute per image
    (["serve", "--threads", "5000"], f"argument --threads: {TOO_MANY}"),
    (["orientation", "m.onnx", "--run", "r", "--seed", "99999999999999999999"],  # was torch's overflow traceback
     "argument --seed: must be in [0, 4294967295], got 99999999999999999999"),
    (["orientation", "m.onnx", "--run", "r", "--seed", "-1"], "argument --seed: must be in [0, 4294967295], got -1"),
])
def test_out_of_range_numbers_are_usage_errors(argv, message, monkeypatch, capsys):
    import braintumor.serve

    monkeypatch.setattr(braintumor.serve, "serve", lambda *a, **k: pytest.fail("the server was started"))
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and capsys.readouterr().err.rstrip().endswith(message)


def test_the_upload_limit_s_range_is_one_rule_for_serve_and_create_app():
    """1024 MiB, the most serve takes, is taken by both; 1e9 refused by create_app in serve's words."""
    from braintumor.cli_types import upload_mb
    from braintumor.web import upload_limit_mb

    assert upload_mb("1024") == upload_limit_mb(1024) == 1024.0
    with pytest.raises(ValueError, match=r"^max_upload_mb must be 0\.001 to 1024 \(MiB\), got 1000000000\.0: "):
        upload_limit_mb(1e9)


@pytest.mark.parametrize("command", [["predict", "x.jpg"], ["serve"]])
@pytest.mark.parametrize(("value", "message"), [
    ("100000", "must be in [1, 64], got 100000"),  # serve started gunicorn with 100000 workers; predict one per batch
    ("0", "must be in [1, 64], got 0"),  # predict said 'error: --workers must be at least 1', unlike other options
    ("two", "expected a whole number in [1, 64], got 'two'"),
])
def test_workers_are_bounded_like_other_whole_numbers(command, value, message, monkeypatch, capsys):
    import braintumor.serve

    monkeypatch.setattr(braintumor.serve, "serve", lambda *a, **k: pytest.fail("the server was started"))
    with pytest.raises(SystemExit) as exc:
        main([*command, "--workers", value])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"braintumor {command[0]}: error: argument --workers: "
                                                               f"{message}")


def test_the_upload_limit_is_named_in_the_unit_the_server_counts(clf, capsys):
    """``serve --help`` and the limit's errors said "MB" of a limit counted in MiB (2**20 bytes, as the app's
    MAX_CONTENT_LENGTH and waitress's body size are): a proxy set to 128 MB (10**6) refused bodies the app took."""
    import re

    from braintumor.web import create_app

    unit = {2**20: "MiB", 10**6: "MB"}[create_app(classifier=clf, max_upload_mb=1).config["MAX_CONTENT_LENGTH"]]
    other = re.compile(r"\bMB\b" if unit == "MiB" else r"\bMiB\b")
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    told = " ".join(capsys.readouterr().out.split())
    options = told[told.index("options:"):]
    option = options[options.index("--max-upload-mb"):options.index("--client-timeout")]
    assert option.startswith(f"--max-upload-mb {unit.upper()} request size limit in {unit} ")
    assert not other.search(option)
    for value in ("1e-9", "1e9"):
        with pytest.raises(SystemExit):
            main(["serve", "--max-upload-mb", value])
        err = capsys.readouterr().err
        assert unit in err and not other.search(err), err
