"""``serve`` as a systemd service: its CPU quota (``CPUQuota=``) is on the service's own cgroup, not the root."""

from __future__ import annotations

import os

import pytest

from braintumor import cpu_quota


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
    assert cpu_quota.available_cpus(tmp_path, proc) == (expected or _mine())


def test_available_cpus_without_a_readable_proc_cgroup_reads_the_root(tmp_path):
    if _mine() < 2:
        pytest.skip("needs at least 2 CPUs in this process's affinity to tell a 1-CPU quota apart")
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    assert cpu_quota.available_cpus(tmp_path, tmp_path / "missing") == 1


def _without_docker_blocks() -> tuple[str, str]:
    import re

    from conftest import REPO

    section = (REPO / "docs/DEPLOY.md").read_text().split("## Without Docker", 1)[1].split("\n## ", 1)[0]
    return (re.search(r"```ini\n(.*?)```", section, re.S).group(1),
            re.search(r"```nginx\n(.*?)```", section, re.S).group(1))


def test_deploy_md_unit_and_nginx_snippet_agree_with_serve():
    """The unit's ExecStart is a command serve's parser takes, and nginx's limits fit it: a body limit a little above
    --max-upload-mb, a body buffer as large (else nginx writes uploads to a temporary file on its disk), a read timeout
    past gunicorn's 60 s, and the port the unit listens on. With --threads 1, a --request-timeout under gunicorn's
    --timeout: the unit had 60 for both, and a body trickling after slow headers got gunicorn's 500, not the 408."""
    import re
    import shlex

    from braintumor.cli import build_parser

    unit, nginx = _without_docker_blocks()
    start = shlex.split(re.search(r"^ExecStart=(.*)$", unit, re.M).group(1))
    assert start[0].endswith("/bin/braintumor")
    args = build_parser().parse_args(start[1:])
    for setting in ("NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectSystem=strict", "Restart=on-failure"):
        assert setting in unit.splitlines()
    assert "ReadWritePaths" not in unit or "/dev/shm" in unit  # serve writes to /dev/shm only: see the doc
    size = {k: int(v) for k, v in re.findall(r"^(client_max_body_size|client_body_buffer_size)\s+(\d+)m;", nginx, re.M)}
    assert args.max_upload_mb < size["client_max_body_size"] <= args.max_upload_mb * 1.1
    assert size["client_body_buffer_size"] == size["client_max_body_size"]
    assert re.search(r"proxy_max_temp_file_size\s+0;", nginx)
    assert int(re.search(r"proxy_read_timeout\s+(\d+)s;", nginx).group(1)) > 60
    assert all(p == f"http://{args.host}:{args.port}" for p in re.findall(r"proxy_pass\s+(\S+);", nginx))
    assert "$request_body" not in nginx
    from braintumor.web.hosts import allowed_hosts  # nginx's Host (by default its proxy_pass address) is answered

    sent = re.findall(r"^\s*proxy_set_header\s+Host\s+(\S+);", nginx, re.M) or [f"{args.host}:{args.port}"]
    answered = allowed_hosts(args.host, args.allowed_host or ())
    assert answered is None or all(host.rpartition(":")[0] in answered for host in sent), sent
    if args.threads == 1:  # sync workers: gunicorn's --timeout restarts one whose request (headers, body) runs longer
        from braintumor.gunicorn_config import timeout  # its client got gunicorn's 500, not the app's 408

        assert args.request_timeout < timeout


@pytest.mark.parametrize(("where", "expected"), [
    ("cpu/system.slice/braintumor.service", 1),  # CPUQuota= on the unit's own cgroup in the cpu hierarchy
    ("cpu/system.slice", 1),                     # or on its slice
    ("cpu/user.slice", None),                    # another cgroup's quota is not ours
    ("cpu", 1),                                  # a container's own cgroup mounted at the hierarchy's root
])
def test_available_cpus_honours_a_cgroup_v1_quota_under_systemd(tmp_path, where, expected):
    """cgroup v1 (RHEL 7/8's default, still common on hospital servers): /proc/self/cgroup names the unit's cgroup
    per controller (``4:cpu,cpuacct:/system.slice/braintumor.service``) and the CFS quota lives in that directory of
    the cpu hierarchy, not at its root, which was the only place read."""
    if _mine() < 2:
        pytest.skip("needs at least 2 CPUs in this process's affinity to tell a 1-CPU quota apart")
    (tmp_path / where).mkdir(parents=True, exist_ok=True)
    (tmp_path / where / "cpu.cfs_quota_us").write_text("100000\n")
    (tmp_path / where / "cpu.cfs_period_us").write_text("100000\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("12:memory:/system.slice/braintumor.service\n"
                    "4:cpu,cpuacct:/system.slice/braintumor.service\n"
                    "1:name=systemd:/system.slice/braintumor.service\n"
                    "0::/system.slice/braintumor.service\n")
    assert cpu_quota.available_cpus(tmp_path, proc) == (expected or _mine())


def _nginx_location(nginx: str, uri: str) -> str:
    """The body of the ``location`` block nginx picks for ``uri`` (its rules: an exact ``=`` match; else the longest
    prefix, unless a regular expression, tried in order, matches), from a snippet of unnested blocks."""
    import re

    blocks = re.findall(r"^location\s+(=|~\*?|\^~)?\s*(\S+)\s*\{(.*?)^\}", nginx, re.M | re.S)
    exact = [body for kind, where, body in blocks if kind == "=" and where == uri]
    if exact:
        return exact[0]
    prefixes = sorted(((where, kind, body) for kind, where, body in blocks if kind in ("", "^~")
                       and uri.startswith(where)), key=lambda block: len(block[0]))
    if prefixes and prefixes[-1][1] == "^~":
        return prefixes[-1][2]
    for kind, where, body in blocks:
        if kind.startswith("~") and re.search(where, uri, re.I if kind == "~*" else 0):
            return body
    assert prefixes, f"no location for {uri}"
    return prefixes[-1][2]


def test_deploy_md_nginx_snippet_keeps_every_monitoring_route_to_the_monitoring_network():
    """DEPLOY.md sends /metrics, /api/v1/stats and /dashboard to the monitoring network only, but its snippet had
    ``location = /metrics`` alone: /api/v1/stats and /dashboard were open to all, and so was /metrics/, which the app
    answers as /metrics (its machine routes take a trailing slash) and an exact match does not catch."""
    from braintumor.predictor import Classifier
    from braintumor.web import create_app

    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    _, nginx = _without_docker_blocks()
    monitoring = [path + slash for path in ("/metrics", "/api/v1/stats", "/dashboard") for slash in ("", "/")
                  if client.get(path + slash).status_code == 200]
    assert "/metrics/" in monitoring  # the variant the exact match let through
    for uri in monitoring:
        assert "deny all;" in _nginx_location(nginx, uri), uri
    for uri in ("/", "/api/v1/predict", "/healthz", "/static/app.css"):  # the app itself stays open
        assert "deny all;" not in _nginx_location(nginx, uri), uri
    from conftest import REPO  # the "Behind a reverse proxy" list names the slashed routes the app answers

    said = (REPO / "docs/DEPLOY.md").read_text().split("- **Monitoring**:", 1)[1].split("\n- ", 1)[0]
    for uri in ("/metrics/", "/api/v1/stats/", "/dashboard/"):  # it said all three were answered: /dashboard/ is not
        assert (f"`{uri}` is a 404" in said) == (uri not in monitoring) and f"`{uri}`" in said, uri


def test_deploy_md_nginx_snippet_sets_the_request_id_in_the_server_block_not_in_a_location():
    """nginx passes a location the server block's ``proxy_set_header`` lines only where it sets none of its own: the
    snippet's ``proxy_set_header X-Request-ID`` in each location dropped an operator's ``proxy_set_header Host
    $http_host;`` (DEPLOY.md's advice for a proxy on another machine) beside it in the server block, and every upload
    over plain http was then refused 403. Set in the server block, it reaches every location beside those lines."""
    import re

    _, nginx = _without_docker_blocks()
    blocks = re.findall(r"^location\s+(?:=|~\*?|\^~)?\s*(\S+)\s*\{(.*?)^\}", nginx, re.M | re.S)
    assert blocks and not [where for where, body in blocks if re.search(r"^\s*proxy_set_header\s", body, re.M)]
    server = re.sub(r"^location\s.*?^\}", "", nginx, flags=re.M | re.S)
    assert re.search(r"^proxy_set_header\s+X-Request-ID\s+\$request_id;", server, re.M), server


def test_deploy_md_nginx_log_format_follows_the_apps_access_log_rule():
    """nginx's default ``combined`` log keeps ``$request`` (the query string: ``?patient=...``) and the client's
    address, which the app's own access log leaves out (web/server_logs.py); DEPLOY.md's ``log_format`` keeps the
    method and the path (each ``-`` where the app's has it: a method not HTTP's, ``DOE_JANE``; a 404) and no variable
    that carries the query, the client or a body."""
    import re

    from conftest import REPO

    from braintumor.log_privacy import LOGGED_METHODS
    from braintumor.web.server_logs import UNKNOWN_PATH

    section = (REPO / "docs/DEPLOY.md").read_text().split("## Without Docker", 1)[1].split("\n## ", 1)[0]
    block = next(b for b in re.findall(r"```nginx\n(.*?)```", section, re.S) if "log_format" in b)
    code = re.sub(r"#[^\n']*", "", block)  # comments may name what not to use
    name, fmt = re.search(r"^log_format\s+(\w+)\s+(.*?);", code, re.M | re.S).groups()
    assert f"access_log /var/log/nginx/braintumor.access.log {name};" in section
    used = set(re.findall(r"\$\{?(\w+)", fmt))
    leaking = {v for v in used if v in {"request", "request_uri", "args", "query_string", "is_args", "remote_addr",
                                        "remote_user", "request_body", "binary_remote_addr", "realpath_root"}
               or v.startswith(("arg_", "http_", "cookie_"))}
    assert not leaking, leaking
    assert "status" in used and "request_method" not in used  # the method as sent: DOE_JANE, a patient's name

    def rules_of(source: str) -> dict[str, str]:
        """The one map from ``$source`` to a variable the format uses: its rules, source value to result."""
        mapped = [v for v in used if re.search(rf"^map\s+\${source}\s+\${v}\s*\{{", code, re.M)]
        assert len(mapped) == 1, (source, used)
        return dict(re.findall(r"^\s+(\S+)\s+(\S+);", code.split(f"${mapped[0]}", 1)[1].split("}", 1)[0], re.M))

    assert rules_of("status") == {"404": f'"{UNKNOWN_PATH}"', "default": "$uri"}  # the path: by status, as the app's
    # the method: HTTP's own as they are, any other '-', as the app's (log_privacy.logged_method)
    assert rules_of("request_method") == {**{m: m for m in LOGGED_METHODS}, "default": f'"{UNKNOWN_PATH}"'}


def test_the_unit_retries_a_taken_port_but_not_a_usage_error(tiny_model, monkeypatch, capsys):
    """Restart=on-failure retried every exit that was not 0, so a mistake in the unit (exit status 2: a wrong option, a
    missing model) started, failed and was started again every 5 s, forever. RestartPreventExitStatus=2 stops that;
    a port still held (the last run stopping, another program) is 75 and is still retried."""
    import re
    import socket

    from braintumor.cli import main

    unit = _without_docker_blocks()[0]
    prevented = {word for line in re.findall(r"^RestartPreventExitStatus=(.*)$", unit, re.M) for word in line.split()}
    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("serve went on to start gunicorn"))
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = main(["serve", "--model", str(tiny_model), "--port", str(held.getsockname()[1])])
    wrong = main(["serve", "--model", str(tiny_model.with_name("missing.onnx")), "--port", "5099"])
    assert (taken, wrong) == (75, 2), capsys.readouterr().err
    assert str(wrong) in prevented and str(taken) not in prevented
