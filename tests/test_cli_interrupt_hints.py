"""An interrupted run that can be continued says how: the line after "interrupted" names the command's --resume."""

from __future__ import annotations

import pytest
from conftest import encode, needs_torch, synthetic_head

from braintumor.cli import main
from braintumor.model_files import default_model_path

MODEL = default_model_path()


@pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
def test_predict_resume_interrupted_says_the_records_are_kept_and_how_to_go_on(tmp_path, monkeypatch, capsys):
    """Ctrl-C under --resume kept the records already appended, but the run said only 'interrupted': a research
    group left wondering whether to start again (scoring everything twice) or how to continue."""
    import braintumor.predict_cli as predict_cli

    for k in range(2):
        (tmp_path / f"{k}.png").write_bytes(encode(synthetic_head(seed=k), "PNG"))
    out = tmp_path / "out.jsonl"
    real = predict_cli.BatchJob.records

    def interrupted(*args, **kwargs):
        yield from real(*args, **kwargs)
        raise KeyboardInterrupt  # after the inputs were scored and appended

    monkeypatch.setattr(predict_cli.BatchJob, "records", interrupted)
    assert main(["predict", str(tmp_path / "0.png"), "-o", str(out), "--resume"]) == 130
    err = capsys.readouterr().err
    assert out.exists() and err.splitlines()[-2:] == [
        "interrupted",
        f"the records so far are kept in {out}: run the same command again, with --resume, to continue"]


def test_predict_interrupted_without_resume_says_only_that(tmp_path, monkeypatch, capsys):
    """Without --resume nothing is kept (the output is written whole or not at all): no hint to continue."""
    import braintumor.cli as cli

    def stop(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_predict", stop)
    assert main(["predict", str(tmp_path), "-o", str(tmp_path / "out.jsonl")]) == 130
    assert capsys.readouterr().err == "interrupted\n"


@pytest.mark.parametrize(("stop", "code", "said"), [(KeyboardInterrupt, 130, "interrupted"),
                                                    (15, 143, "stopped by SIGTERM")])
def test_a_stop_inside_a_c_extensions_start_up_is_that_stop(tmp_path, monkeypatch, capsys, stop, code, said):
    """Ctrl-C (or SIGTERM) while predict imported onnxruntime, inside its C extension's start-up, came out as pybind11's
    ``ImportError: initialization failed`` caused by the KeyboardInterrupt: a traceback and exit status 1."""
    import braintumor.cli as cli
    from braintumor.cli_run import Terminated

    def importing(args):
        try:
            raise Terminated(stop) if isinstance(stop, int) else stop()
        except KeyboardInterrupt as exc:
            raise ImportError("initialization failed") from exc

    monkeypatch.setattr(cli, "_cmd_predict", importing)
    assert main(["predict", str(tmp_path), "-o", str(tmp_path / "out.jsonl")]) == code
    assert capsys.readouterr().err == f"{said}\n"


def test_an_import_error_of_its_own_stays_one(tmp_path, monkeypatch):
    """Only the stop behind an ImportError is said as a stop: a broken install's own ImportError is not hidden."""
    import braintumor.cli as cli

    def broken(args):
        raise ImportError("libonnxruntime.so: cannot open shared object file")

    monkeypatch.setattr(cli, "_cmd_predict", broken)
    with pytest.raises(ImportError, match="cannot open shared object"):
        main(["predict", str(tmp_path), "-o", str(tmp_path / "out.jsonl")])


@pytest.mark.parametrize("with_checkpoint", [True, False])
def test_train_interrupted_names_its_last_checkpoint_and_resume(tmp_path, monkeypatch, capsys, with_checkpoint):
    """A stopped training run said 'interrupted'; the next try without --resume was refused ('already holds a
    training run'). Now it says where the last finished epoch is and how to continue it, when there is one."""
    import braintumor.cli_train as cli_train

    run = tmp_path / "run"
    run.mkdir()
    if with_checkpoint:
        (run / "last.pt").write_bytes(b"checkpoint")

    def stop(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_train, "run_train", stop)
    assert main(["train", "--out", str(run), "--epochs", "3"]) == 130
    err = capsys.readouterr().err
    hint = f"{run / 'last.pt'} holds the last finished epoch: run the same command with --resume to continue" \
        if with_checkpoint else f"stopped before training began: nothing was written in {run}; run the same " \
                                "command again to start"
    assert err == "interrupted\n" + hint + "\n"


@pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
@pytest.mark.parametrize(("name", "header"), [("out.jsonl", False), ("out.csv", False), ("out.csv", True)])
def test_predict_resume_stopped_before_its_first_record_says_no_records_are_kept(tmp_path, monkeypatch, capsys, name,
                                                                                 header):
    """An -o file there but empty (or a csv's header alone), and a --resume run stopped before its first record: it
    said "the records so far are kept in out.jsonl" of a file holding none."""
    import braintumor.predict_cli as predict_cli
    from braintumor.classes import CLASSES
    from braintumor.csv_records import csv_columns

    (tmp_path / "0.png").write_bytes(encode(synthetic_head(seed=0), "PNG"))
    out = tmp_path / name
    before = (",".join(csv_columns(CLASSES)) + "\n").encode() if header else b""
    out.write_bytes(before)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # before the first input was scored
        yield

    monkeypatch.setattr(predict_cli.BatchJob, "records", interrupted)
    assert main(["predict", str(tmp_path / "0.png"), "-o", str(out), "--resume"]) == 130
    assert capsys.readouterr().err.splitlines()[-1:] == ["interrupted"]
    assert out.read_bytes() == before


def test_train_overwrite_interrupted_says_resume_in_place_of_overwrite(tmp_path, monkeypatch, capsys):
    """A run started with --overwrite and stopped after an epoch said "run the same command with --resume": that
    command (--overwrite and --resume) is a usage error, "not allowed with argument --overwrite"."""
    import braintumor.cli_train as cli_train

    run = tmp_path / "run"
    run.mkdir()

    def stop(args):
        (run / "last.pt").write_bytes(b"checkpoint")  # this run's first epoch
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_train, "run_train", stop)
    assert main(["train", "--out", str(run), "--epochs", "3", "--overwrite"]) == 130
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"{run / 'last.pt'} holds the last finished epoch: run the same command with --resume in place of "
        "--overwrite to continue")


def test_train_overwrite_stopped_before_removing_the_earlier_run_does_not_offer_to_resume_it(tmp_path, monkeypatch,
                                                                                            capsys):
    """--overwrite stopped in the decode (minutes), before the earlier run's checkpoints are removed: the hint named
    that run's last.pt as "the last finished epoch" to --resume in place of --overwrite, which continued the run the
    user had asked to replace (or failed: "cannot resume ... with other settings")."""
    import os
    import time

    import braintumor.cli_train as cli_train

    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(b"the earlier run's checkpoint")
    an_hour_ago = time.time() - 3600
    os.utime(run / "last.pt", (an_hour_ago, an_hour_ago))

    def stop(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_train, "run_train", stop)
    assert main(["train", "--out", str(run), "--epochs", "3", "--overwrite"]) == 130
    assert capsys.readouterr().err.splitlines()[-2:] == ["interrupted", (
        f"stopped before the earlier run in {run} was replaced: its checkpoints are as they were; run the same "
        "command again to start the new run")]


@needs_torch
@pytest.mark.parametrize("stop_at", ["a step", "last.pt"])
def test_train_stopped_in_its_first_epoch_says_what_it_kept_and_how_to_start_again(tmp_path, monkeypatch, capsys,
                                                                                   stop_at):
    """A run stopped in epoch 1 said only "interrupted", leaving config.json and split.json (and, stopped between
    best.pt and last.pt, a best.pt that makes the same command refused as a run already there): one was left to
    guess whether anything could be resumed and how to start again. The command it names does start again."""
    import braintumor.train as train
    from braintumor.classes import CLASSES

    for i, name in enumerate(CLASSES):
        (tmp_path / "d" / name).mkdir(parents=True)
        for j in range(6):
            (tmp_path / "d" / name / f"{j}.png").write_bytes(encode(synthetic_head(64, seed=10 * i + j)))
    run = tmp_path / "run"
    command = ["train", "--data", str(tmp_path / "d"), "--out", str(run), "--epochs", "1", "--image-size", "32",
               "--batch-size", "8", "--no-group-duplicates", "--cache-dir", str(tmp_path / "cache")]
    real_save = train.save_checkpoint

    def save(state, path):
        if path.name == "last.pt":
            raise KeyboardInterrupt
        real_save(state, path)

    def step(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(train, *(("save_checkpoint", save) if stop_at == "last.pt" else ("augment", step)))
        assert main(command) == 130
    kept = "config.json, split.json" + (", metrics.jsonl, best.pt" if stop_at == "last.pt" else "")
    again = "with --overwrite" if stop_at == "last.pt" else "again"
    assert capsys.readouterr().err.splitlines()[-2:] == ["interrupted", (
        f"no epoch was checkpointed (no last.pt): {run} keeps only {kept}, nothing to resume; run the same command "
        f"{again} to start the run over")]
    if stop_at == "last.pt":  # refused (without --overwrite), saying there is no last.pt: "--resume continues it" was
        assert main(command) == 2  # said, and --resume then refused, "nothing to resume"
        assert capsys.readouterr().err == (f"error: {run} already holds a training run (best.pt): no last.pt to resume "
                                           "from, --overwrite starts it again, or choose another --out\n")
    assert main(command + ["--overwrite"] * (stop_at == "last.pt")) == 0 and (run / "last.pt").is_file()


def test_train_overwrite_stopped_tells_the_earlier_runs_last_pt_by_the_file_not_its_age(tmp_path, monkeypatch,
                                                                                       capsys):
    """The earlier run's last.pt was told by its time: written under a second before the --overwrite command (a
    script that reruns at once) or stamped in the future (a copy from a machine whose clock is ahead, a network
    disk's clock), a stop in the decode still offered to --resume it, the run being replaced."""
    import os
    import time

    import braintumor.cli_train as cli_train

    run = tmp_path / "run"
    run.mkdir()

    def stop(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_train, "run_train", stop)
    for stamp in (None, time.time() + 3600):  # just written; a clock ahead
        (run / "last.pt").write_bytes(b"the earlier run's checkpoint")
        if stamp is not None:
            os.utime(run / "last.pt", (stamp, stamp))
        assert main(["train", "--out", str(run), "--epochs", "3", "--overwrite"]) == 130
        assert capsys.readouterr().err.splitlines()[-2:] == ["interrupted", (
            f"stopped before the earlier run in {run} was replaced: its checkpoints are as they were; run the same "
            "command again to start the new run")]
