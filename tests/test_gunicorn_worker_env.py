"""The workers' environment (``gunicorn_config.WORKER_ENV``: one thread per BLAS/OpenMP pool, two malloc arenas) was
set by ``braintumor serve`` alone: a gunicorn started by hand with braintumor's ``gunicorn_config.py`` had none of it,
and DEPLOY.md did not say what to export."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO

from braintumor import gunicorn_config, serve


def test_deploy_md_exports_the_values_serve_sets():
    """One home for the values: DEPLOY.md's export line says WORKER_ENV's, every one of them."""
    text = (REPO / "docs/DEPLOY.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith("export ") and "MALLOC_ARENA_MAX" in line]
    assert len(lines) == 1, lines
    said = dict(pair.split("=", 1) for pair in lines[0].split()[1:])
    assert said == gunicorn_config.WORKER_ENV and serve.WORKER_ENV is gunicorn_config.WORKER_ENV


#: In a fresh process: gunicorn_config loaded by its path (as gunicorn's master loads it), its on_starting run, then
#: eight threads alive at once, each with its own malloc arena unless capped; prints the environment and the arenas.
_MASTER = textwrap.dedent("""
    import ctypes, importlib.util, os, sys, tempfile, threading, types
    spec = importlib.util.spec_from_file_location("gunicorn_config", sys.argv[1])
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    config.on_starting(types.SimpleNamespace(cfg=types.SimpleNamespace(reuse_port=False, address=[("::1", 0)])))
    assert "braintumor" not in sys.modules and "numpy" not in sys.modules  # the master loads neither
    if os.fork() == 0:  # a worker: forked from the master, as gunicorn's are
        barrier = threading.Barrier(8)
        def use():
            held = bytearray(4096)
            barrier.wait()
        threads = [threading.Thread(target=use) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        libc = ctypes.CDLL(None)
        libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
        path = os.path.join(tempfile.mkdtemp(), "malloc.xml")
        fp = libc.fopen(path.encode(), b"w")
        libc.malloc_info(0, ctypes.c_void_p(fp))
        libc.fclose(ctypes.c_void_p(fp))
        heaps = open(path).read().count("<heap nr=")
        os.remove(path)
        os.rmdir(os.path.dirname(path))
        print(*(f"{k}={os.environ.get(k)}" for k in config.WORKER_ENV), f"arenas={heaps}", flush=True)
        os._exit(0)
    os.wait()
""")


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
                    reason="MALLOC_ARENA_MAX and malloc_info are glibc's")
def test_a_hand_started_gunicorns_workers_get_serves_environment():
    """``gunicorn -c .../gunicorn_config.py ...`` with none of it exported: a worker gets the thread caps before it
    loads numpy or ONNX Runtime, and at most two malloc arenas (glibc reads MALLOC_ARENA_MAX only at a process's start,
    so setting the variable alone did nothing); a value the operator exported is kept."""
    env = {k: v for k, v in os.environ.items() if k not in gunicorn_config.WORKER_ENV}
    env["OMP_NUM_THREADS"] = "3"
    out = subprocess.run([sys.executable, "-c", _MASTER, str(REPO / "src/braintumor/gunicorn_config.py")], env=env,
                         capture_output=True, text=True, timeout=60, check=True).stdout.split()
    said = dict(item.split("=", 1) for item in out)
    assert said.pop("OMP_NUM_THREADS") == "3"
    arenas = int(said.pop("arenas"))
    assert said == {k: v for k, v in gunicorn_config.WORKER_ENV.items() if k != "OMP_NUM_THREADS"} and arenas <= 2, \
        (said, arenas)
