"""Every thread count the package picks when none is given follows the CPUs this process may use (cpu_quota), as
``serve`` did: ``predict``, ``Classifier.load`` and training used ``os.cpu_count()``, the host's cores, so in a 2-CPU
container on a 64-core host ``predict --workers 2`` gave each worker 32 ONNX Runtime threads."""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import types

import pytest
from conftest import REPO, extra_reason

from braintumor import cpu_quota
from braintumor.model_files import default_model_path

MODEL = default_model_path()


@pytest.fixture
def host_of_64(tmp_path, monkeypatch):
    """A 64-core host whose cgroup (a folder of ours) says ``cpu.max``; returns a function that sets it, and the
    affinity mask, as a container's ``--cpus`` or ``--cpuset-cpus`` would."""
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(cpu_quota, "_own_cgroups", lambda root, proc: [tmp_path])

    def limit(quota: str | None = None, affinity: int = 64) -> None:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)), raising=False)
        (tmp_path / "cpu.max").write_text(quota or "max 100000\n")

    return limit


def test_the_default_is_the_cpus_shared_and_capped(host_of_64):
    host_of_64("200000 100000\n")  # docker --cpus 2
    assert cpu_quota.default_threads() == 2 and cpu_quota.default_threads(2) == 1
    assert cpu_quota.default_threads(4) == 1 and cpu_quota.default_threads(at_most=1) == 1
    host_of_64(affinity=8)  # --cpuset-cpus 0-7, no quota
    assert cpu_quota.default_threads(2) == 4 and cpu_quota.default_threads(at_most=4) == 4


@pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
@pytest.mark.parametrize("quota, affinity, expected", [("200000 100000\n", 64, 2), (None, 3, 3), (None, 64, 4)])
def test_classifier_load_follows_a_container_cpu_limit(host_of_64, quota, affinity, expected):
    """``Classifier.load()`` (``predict`` without --threads): the CPUs it may use, at most 4; was min(cpu_count, 4)."""
    from braintumor import Classifier

    host_of_64(quota, affinity)
    clf = Classifier.load(MODEL)
    assert clf.session.get_session_options().intra_op_num_threads == expected


@pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
def test_predict_workers_share_the_containers_cpus(host_of_64, monkeypatch, tmp_path, capsys):
    """``predict --workers 2`` in a 2-CPU container: one thread per worker, not 64 / 2."""
    from conftest import encode, synthetic_head

    import braintumor.batch_predict
    from braintumor.cli import main

    host_of_64("200000 100000\n")
    given = []
    monkeypatch.setattr(braintumor.batch_predict, "units_in_order",
                        lambda units, workers, model, threads, *rest: given.append((workers, threads)) or iter(()))
    (tmp_path / "a.png").write_bytes(encode(synthetic_head(), "PNG"))
    main(["predict", str(tmp_path / "a.png"), "--workers", "2", "--format", "jsonl"])
    capsys.readouterr()
    assert given == [(2, 1)]


def test_training_caps_torchs_threads_by_the_cpu_limit(host_of_64, monkeypatch, data_root, tmp_path):
    """torch counts the host's cores: training in a 2-CPU container ran one torch thread per core of the host."""
    torch = pytest.importorskip("torch", reason=extra_reason("torch"))
    import braintumor.train
    from braintumor.cli import main
    from braintumor.data import DatasetError

    host_of_64("200000 100000\n")
    seen = []

    def stop(*args, **kwargs):
        seen.append(torch.get_num_threads())
        raise DatasetError("stopped by the test")

    monkeypatch.setattr(braintumor.train, "load_dataset", stop)
    before = torch.get_num_threads()
    torch.set_num_threads(8)  # torch's own count on an 8-core host
    try:
        main(["train", "--data", str(data_root), "--out", str(tmp_path / "run"), "--epochs", "1"])
    finally:
        torch.set_num_threads(before)
    assert seen == [2]


@pytest.mark.parametrize("argv", [["predict", "x.jpg", "--threads", "5000"], ["serve", "--workers", "500"]])
def test_too_many_threads_or_workers_names_the_cpus_of_the_container(host_of_64, capsys, argv):
    """The error said "this machine has 64 CPUs" in a 2-CPU container: the count to pick from is 2."""
    from braintumor.cli import main

    host_of_64("200000 100000\n")
    with pytest.raises(SystemExit):
        main(argv)
    assert "(this process may use 2 CPUs)" in capsys.readouterr().err


@pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_a_hand_started_gunicorns_workers_share_the_cpus(host_of_64, monkeypatch):
    """``gunicorn -w 4 -c .../gunicorn_config.py 'braintumor.web:create_app()'`` (DEPLOY.md's own command line, not
    ``serve``) on a 4-CPU host: each worker's model took 4 ONNX Runtime threads, as if alone (16 on 4 CPUs); its
    share is 1, as ``serve`` gives. post_fork, in the worker before the app loads, says how many workers there are."""
    from braintumor.quiet_libraries import set_decoders_quiet
    from braintumor.web import create_app

    def threads() -> int:
        return create_app(MODEL).extensions["braintumor"].classifier.session.get_session_options().intra_op_num_threads

    host_of_64("400000 100000\n")  # docker --cpus 4
    monkeypatch.setenv(cpu_quota.SERVER_WORKERS_ENV, "")  # restored after the test, whatever post_fork sets
    monkeypatch.delenv(cpu_quota.SERVER_WORKERS_ENV)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert threads() == 4  # alone: every CPU, at most 4
    spec = importlib.util.spec_from_file_location("gunicorn_config", REPO / "src/braintumor/gunicorn_config.py")
    config = importlib.util.module_from_spec(spec)  # as gunicorn loads it: by its path
    spec.loader.exec_module(config)
    before = {s: signal.getsignal(s) for s in config.STOP_SIGNALS}  # post_fork puts the defaults back
    try:
        config.post_fork(types.SimpleNamespace(num_workers=4), types.SimpleNamespace(metrics_slot=0))
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
        set_decoders_quiet(None)
    assert threads() == 1
    monkeypatch.setenv(cpu_quota.SERVER_WORKERS_ENV, "2")  # another server's workers, said by hand
    assert threads() == 2
    monkeypatch.setenv(cpu_quota.SERVER_WORKERS_ENV, "abc")  # not a count: alone, as before
    assert threads() == 4
    host_of_64()  # 64 CPUs, 2 workers: their share is 32, capped at 4 as serve's (below) and Classifier.load's
    monkeypatch.setenv(cpu_quota.SERVER_WORKERS_ENV, "2")
    assert threads() == 4


@pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.parametrize("workers", [1, 2, 32])
def test_a_server_worker_on_a_big_host_takes_a_few_threads(host_of_64, monkeypatch, workers):
    """``serve --workers 1`` (and a hand-started ``gunicorn -w 1``) on a 64-CPU host gave its one worker 64 ONNX Runtime
    threads, spinning after each ~1 ms image on cores that had other work (docs/DEPLOY.md, ONNX Runtime threads): its
    share of the CPUs, capped at 4 as a model loaded alone is; 32 workers still get 2 each."""
    from braintumor import serve as serve_mod

    host_of_64()
    for key in [*serve_mod.WORKER_ENV, "PROMETHEUS_MULTIPROC_DIR", cpu_quota.SERVER_WORKERS_ENV]:
        monkeypatch.setenv(key, "")  # so that teardown restores it
        monkeypatch.delenv(key)
    apps = []

    def fake_execv(path, argv):
        apps.append(argv[-1])
        raise OSError("not really starting gunicorn")

    monkeypatch.setattr(serve_mod.os, "execv", fake_execv)
    with pytest.raises(OSError):
        serve_mod.serve(model=str(MODEL), workers=workers, port=0)
    expected = min(4, 64 // workers)
    assert f"threads={expected}," in apps[0], apps
    from braintumor.web import create_app  # a hand-started gunicorn's worker of as many (post_fork says how many)

    monkeypatch.setenv(cpu_quota.SERVER_WORKERS_ENV, str(workers))
    clf = create_app(MODEL).extensions["braintumor"].classifier
    assert clf.session.get_session_options().intra_op_num_threads == expected
