"""Helpers shared by the benchmark scripts: machine description, percentiles, tables, JSON, RSS.

The scripts are run by hand (pytest times none; tests/test_benchmark_scripts.py smoke-runs some) from the
repository root, e.g. ``python benchmarks/latency.py --limit 5``; this folder is on ``sys.path`` when they run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))  # the checkout's code wins over any installed copy

from braintumor.script_entry import say_missing_extras  # noqa: E402  (after the path: the checkout's)

say_missing_extras()  # a package of an extra missing: one line naming the extra, not a traceback

DEFAULT_DATA = os.environ.get("BRAINTUMOR_DATA") or str(REPO.parent / "shared/datasets/brain-tumor-mri")


def versions(*dists: str) -> dict[str, str]:
    """Installed versions of the named distributions ('-' when absent)."""
    out = {}
    for d in dists:
        try:
            out[d] = metadata.version(d)
        except metadata.PackageNotFoundError:
            out[d] = "-"
    return out


def cpu_steal() -> tuple[int, int] | None:
    """(steal, total) CPU ticks since boot from /proc/stat (Linux); None elsewhere.

    On a virtual machine the hypervisor may hand "our" cores to its other guests; that time is
    counted as steal. The same 10-minute load test gave 228 and 137 predictions/s here at 0.7 and 4.8 %."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return ticks[7], sum(ticks)
    return None


VECTOR_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")


def vector_extensions() -> list[str]:
    """The CPU's vector instruction sets that change our timings (AVX-512, VNNI for int8, native bf16
    for autocast): two machines both called "AMD EPYC" differed by 2x in training speed on these."""
    with contextlib.suppress(OSError, StopIteration):
        flags = next(ln.split(":", 1)[1].split() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                     if ln.startswith("flags"))
        return [f for f in VECTOR_FLAGS if f in flags]
    return []


def speed_probe(repeats: int = 7) -> dict[str, float]:
    """Best-of-N milliseconds of two fixed workloads on one core: the interpreter (a Python loop) and
    vectorised numpy. An instant reading: this virtual machine's cores switch between two speeds ~1.7x apart
    from one second to the next with ~0 % steal (docs/PERFORMANCE.md, sixth round), so it says which state a
    run started in, not what its minutes averaged; compare runs by repeating them interleaved."""
    import numpy as np

    x = np.linspace(0.0, 1.0, 1 << 20, dtype=np.float32)

    def best(fn) -> float:
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return round(min(times) * 1e3, 3)

    return {"python_ms": best(lambda: sum(i * i for i in range(200_000))),
            "numpy_ms": best(lambda: np.sqrt(x * x + x).sum())}


def machine() -> dict[str, Any]:
    """CPU model, cores (logical and usable), load, OS and library versions: read timings against these."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    mem = None
    with contextlib.suppress(OSError, StopIteration):
        mem = next(int(ln.split()[1]) * 1024 for ln in Path("/proc/meminfo").read_text().splitlines()
                   if ln.startswith("MemTotal:"))
    return {
        "cpu": cpu, "vector_extensions": vector_extensions(),
        "logical_cores": os.cpu_count(), "usable_cores": usable, "memory_bytes": mem,
        "load_avg_1_5_15": [round(x, 2) for x in load] if load else None,
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "versions": versions("braintumor", "onnxruntime", "numpy", "pillow", "torch", "flask", "gunicorn"),
        "date": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
        "speed_probe": speed_probe(),
        "_steal_at_start": cpu_steal(),
    }


def print_machine(info: dict[str, Any]) -> None:
    v = ", ".join(f"{k} {x}" for k, x in info["versions"].items() if x != "-")
    memory = f", {info['memory_bytes'] / 2**30:.0f} GiB memory" if info.get("memory_bytes") else ""
    isa = "/".join(info.get("vector_extensions") or ["no AVX2"])
    print(f"- machine: {info['cpu']} ({isa}), {info['logical_cores']} logical cores "
          f"({info['usable_cores']} usable){memory}, "
          f"{info['os']}, Python {info['python']}")
    print(f"- versions: {v}")
    print(f"- load average at start (1/5/15 min): {info['load_avg_1_5_15']} "
          "(anything well above 0 means the numbers share the CPU)")
    start, now = info.pop("_steal_at_start", None), cpu_steal()
    if start and now and now[1] > start[1]:
        info["cpu_steal_pct"] = round(100.0 * (now[0] - start[0]) / (now[1] - start[1]), 2)
        print(f"- CPU time taken by the hypervisor (steal) while the script ran: {info['cpu_steal_pct']} % "
              "(a virtual machine's neighbours; above ~1 % the timings here are pessimistic)")
    probe = info.get("speed_probe") or {}
    if probe:
        print(f"- CPU speed probe (best of 7, one core; lower is faster): Python loop {probe['python_ms']} ms, "
              f"numpy {probe['numpy_ms']} ms")
    print(f"- date: {info['date']}\n- command: `python {' '.join(sys.argv)}`\n")


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in [0, 1]); None when empty."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)] if s else None


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: list[str], rows: list[list[Any]], digits: int = 1) -> str:
    """A Markdown table (floats rounded to ``digits``)."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(fmt(c, digits) for c in row) + " |" for row in rows]
    return "\n".join(out)


def write_json(path: Path | None, doc: dict[str, Any]) -> None:
    """``doc`` to ``path`` whole or not at all, its file names as UTF-8 under any locale (as every JSON file the
    project writes: braintumor.file_names.utf8_document), not the ``\\udcXX`` escapes of an ASCII one."""
    if path is None:
        return
    from braintumor.file_names import utf8_document  # here: a script that times braintumor's import imports it late

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(utf8_document(doc), indent=2, default=str))
    tmp.replace(path)
    print(f"\n(numbers written to {path})")


def common_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--data", default=DEFAULT_DATA, help="dataset root (default: $BRAINTUMOR_DATA or %(default)s)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")


def labelled_images(root: str | Path, split: str = "Testing", limit: int | None = None) -> list[tuple[Path, str]]:
    """(path, class) for every test image, sorted; the first ``limit`` per class if given."""
    from compare_peers import list_images

    return list_images(Path(root), split, limit)


def _proc_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _proc_children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as fh:
                kids += [int(x) for x in fh.read().split()]
    return kids


def rss_bytes(pid: int, children: bool = False) -> dict[int, int]:
    """{pid: resident bytes} for ``pid`` or (``children``) for all its descendants; psutil or /proc."""
    try:
        import psutil

        proc = psutil.Process(pid)
        procs = proc.children(recursive=True) if children else [proc]
        out = {}
        for p in procs:
            with contextlib.suppress(psutil.Error):
                out[p.pid] = p.memory_info().rss
        return out
    except ImportError:
        pids, todo = [], [pid]
        while todo:
            p = todo.pop()
            kids = _proc_children(p)
            pids += kids if children else []
            todo += kids if children else []
        out = {}
        for p in pids if children else [pid]:
            with contextlib.suppress(OSError, ValueError):
                out[p] = _proc_rss(p)
        return out


def mb(n: float | None) -> float | None:
    return None if n is None else n / 1e6
