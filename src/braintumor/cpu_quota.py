"""How many CPUs this process may use (the affinity mask capped by a cgroup CPU quota), and from it every thread count
the package picks when none is given: ``serve``'s workers and their threads, ``predict``'s (with ``--workers`` too),
``Classifier.load``'s, training's torch threads.

``os.cpu_count()`` sees the host's cores, not a container's ``--cpus`` or a systemd unit's ``CPUQuota=``, and
ONNX Runtime starts one thread per core it is told about: too many threads on a small quota is slower than few.
"""

from __future__ import annotations

import math
import os
from pathlib import Path


def _cgroup_cpus(directory: Path) -> float | None:
    """CPUs allowed by the cgroup v2 (``cpu.max``) or v1 (CFS quota) limit in one cgroup directory; None when
    unlimited or unknown."""
    try:
        quota, period = (directory / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota = (directory / "cpu.cfs_quota_us").read_text().strip()
            period = (directory / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    try:
        cpus = int(quota) / int(period)
    except (ValueError, ZeroDivisionError):  # "max": no limit
        return None
    return cpus if cpus > 0 else None  # v1 says -1 for no limit


def _with_ancestors(top: Path, relative: str) -> list[Path]:
    parts = [p for p in relative.strip().strip("/").split("/") if p and p not in (".", "..")]
    return [top.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]


def _own_cgroups(root: Path, proc_cgroup: Path) -> list[Path]:
    """This process's cgroup directories and their ancestors, in the v2 tree (``0::/system.slice/NAME.service`` in
    /proc/self/cgroup) and in v1's cpu hierarchy (``4:cpu,cpuacct:/system.slice/NAME.service``, mounted at
    ``root/cpu``): a systemd service's ``CPUQuota=`` is on its own cgroup or its slice, never on the root, which a
    container's cgroup namespace makes its own. Just the two roots when /proc/self/cgroup says nothing else."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    v2 = next((line[3:] for line in lines if line.startswith("0::")), "")
    v1 = next((fields[2] for fields in (line.split(":", 2) for line in lines)
               if len(fields) == 3 and "cpu" in fields[1].split(",")), "")
    return _with_ancestors(root, v2) + _with_ancestors(root / "cpu", v1)


def available_cpus(cgroup_root: str | os.PathLike = "/sys/fs/cgroup",
                   proc_cgroup: str | os.PathLike = "/proc/self/cgroup") -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup CPU quota (a container's ``--cpus``, a systemd
    unit's ``CPUQuota=``), which ``os.cpu_count()`` ignores (a 2-CPU container on a 64-core host would start 64
    threads per worker)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        n = os.cpu_count() or 1
    quotas = [q for d in _own_cgroups(Path(cgroup_root), Path(proc_cgroup)) if (q := _cgroup_cpus(d))]
    quota = min(quotas) if quotas else None
    return max(1, min(n, math.ceil(quota)) if quota else n)


#: How many server processes share this machine's CPUs: gunicorn_config.py's ``post_fork`` sets it in each gunicorn
#: worker (gunicorn's worker count), so that a model loaded there without a thread count takes its share, as
#: ``braintumor serve`` gives its workers. Set it yourself under another server that forks workers (uWSGI's
#: ``processes``); unset, not a whole number or under 1: the process is alone. Either way at most 4 threads
#: (model_loading.DEFAULT_MAX_THREADS).
SERVER_WORKERS_ENV = "BRAINTUMOR_SERVER_WORKERS"


def server_workers() -> int | None:
    """:data:`SERVER_WORKERS_ENV`'s count, else None: a gunicorn started by hand (``gunicorn
    'braintumor.web:create_app()' -w 4 -c .../gunicorn_config.py``) gave each of its 4 workers the threads of every
    CPU, 4 x 4 on a 4-CPU host."""
    try:
        workers = int(os.environ.get(SERVER_WORKERS_ENV, ""))
    except ValueError:
        return None
    return workers if workers >= 1 else None


def default_threads(processes: int = 1, at_most: int | None = None) -> int:
    """Threads for each of ``processes`` processes when the caller gave none: :func:`available_cpus` shared among them,
    at least 1, at most ``at_most``. The one home of every defaulted thread count (``predict``, ``Classifier.load``,
    ``predict --workers``, ``serve``'s workers, training): ``os.cpu_count()`` gave ``predict`` 32 threads per worker
    in a 2-CPU container on a 64-core host."""
    n = max(1, available_cpus() // max(1, processes))
    return min(n, at_most) if at_most else n
