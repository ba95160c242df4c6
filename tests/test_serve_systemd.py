"""``serve`` as a systemd service: its CPU quota (``CPUQuota=``) is on the service's own cgroup, not the root."""

from __future__ import annotations

import os

import pytest

from braintumor import serve as serve_mod


def _mine() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@pytest.mark.parametrize(("where", "expected"), [
    ("system.slice/braintumor.service", 1),  # the unit's CPUQuota=100%
    ("system.slice", 1),                     # a quota on the slice holds for every unit in it
    ("user.slice", None),                    # another cgroup's quota is not ours
])
def test_available_cpus_honours_a_systemd_cpu_quota(tmp_path, where, expected):
    """Under systemd (cgroup v2, no cgroup namespace) /proc/self/cgroup names the service's cgroup, e.g.
    ``0::/system.slice/braintumor.service``, and CPUQuota= writes its cpu.max there: reading only the root's
    cpu.max (which the root cgroup does not even have) started as many ONNX Runtime threads as the host has cores."""
    if _mine() < 2:
        pytest.skip("needs at least 2 CPUs in this process's affinity to tell a 1-CPU quota apart")
    (tmp_path / where).mkdir(parents=True)
    (tmp_path / where / "cpu.max").write_text("100000 100000\n")
    (tmp_path / "system.slice/braintumor.service").mkdir(parents=True, exist_ok=True)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("0::/system.slice/braintumor.service\n")
    assert serve_mod.available_cpus(tmp_path, proc) == (expected or _mine())


def test_available_cpus_without_a_readable_proc_cgroup_reads_the_root(tmp_path):
    if _mine() < 2:
        pytest.skip("needs at least 2 CPUs in this process's affinity to tell a 1-CPU quota apart")
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    assert serve_mod.available_cpus(tmp_path, tmp_path / "missing") == 1
