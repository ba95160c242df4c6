"""``braintumor serve`` under the environment a team server or a container platform gives it: variables gunicorn
reads on its own, and a reverse proxy in front."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from conftest import REPO
from serve_process import free_port


def _no_metrics_folder_left(folder) -> bool:
    deadline = time.monotonic() + 10  # the watcher removes it just after the server's processes end
    while list(folder.glob("braintumor-metrics-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not list(folder.glob("braintumor-metrics-*"))


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_a_web_concurrency_that_is_not_a_number_does_not_stop_serve(tmp_path):
    """gunicorn's config module reads WEB_CONCURRENCY (platforms such as Heroku set it) when imported: "abc" was a
    traceback from serve, and the metrics folder it had made stayed behind. --workers decides, so it is ignored.
    A bad GUNICORN_CMD_ARGS value then stops gunicorn's master at once, after it has parsed its settings."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path), "WEB_CONCURRENCY": "abc",
           "GUNICORN_CMD_ARGS": "--max-requests abc"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run([sys.executable, "-m", "braintumor", "serve", "--port", str(free_port())], env=env,
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2 and "--max-requests: invalid int value: 'abc'" in done.stderr, done.stderr
    assert _no_metrics_folder_left(tmp_path)


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.parametrize(("value", "problem"), [
    ("'--timeout 120", "no closing quotation"),
    ("--graceful-timeout -1", "--graceful-timeout: Value must be positive: -1"),
    ("--max-requests abc", "argument --max-requests: invalid int value: 'abc'"),
    ("--user no-such-user-here", "--user: No such user: 'no-such-user-here'"),  # gunicorn's ConfigError
])
def test_a_bad_gunicorn_cmd_args_is_one_line_that_names_it_before_serving(tmp_path, value, problem):
    """DEPLOY.md's GUNICORN_CMD_ARGS, wrong: serve said "serving ... on http://..." and then gunicorn printed its usage
    and error, or "Error: No closing quotation" (exit 1) for a stray quote, which named no variable."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path), "GUNICORN_CMD_ARGS": value}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run([sys.executable, "-m", "braintumor", "serve", "--port", str(free_port())], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "serving" not in done.stdout, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"error: GUNICORN_CMD_ARGS: {problem} (it takes gunicorn's own command-line options)"], done.stderr
    assert not list(tmp_path.glob("braintumor-metrics-*"))  # none made, none left


@pytest.mark.parametrize(("value", "problem"), [("--timeout 120 --preload", "--preload: not under serve"),
                                               ("-D --timeout 120", "--daemon: serve runs in the foreground")])
def test_gunicorn_cmd_args_may_not_preload_the_app_or_daemonize(monkeypatch, value, problem):
    """GUNICORN_CMD_ARGS="--preload" (not among the options serve sets) loaded the app, its model and its metrics in
    gunicorn's master, which must never import onnxruntime, before forking: the workers served, /metrics said 1 worker
    of 2. "--daemon": serve returned at once with status 0, the server in the background, and its logs
    went to /dev/null."""
    from braintumor.exit_errors import UsageError
    from braintumor.serve_settings import check_gunicorn_settings

    monkeypatch.setenv("GUNICORN_CMD_ARGS", value)
    with pytest.raises(UsageError, match=f"^GUNICORN_CMD_ARGS: {problem}"):
        check_gunicorn_settings()
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--timeout 120")
    check_gunicorn_settings()  # the rest is gunicorn's to take


def test_workers_gunicorn_switches_users_get_the_metrics_folder(monkeypatch, tmp_path):
    """GUNICORN_CMD_ARGS="--user nobody --group nogroup" (gunicorn started as root, its workers switched to a user):
    the metrics folder serve had made, 0700 and root's, was not theirs, and every worker failed to boot
    (PermissionError: .../histogram_0.db). It is given to them; where it cannot be (not root), one line, no folder."""
    from braintumor import metrics_folders
    from braintumor.exit_errors import UsageError
    from braintumor.serve_settings import check_gunicorn_settings

    owner = (os.geteuid() + 1, os.getegid() + 1)
    monkeypatch.setenv("GUNICORN_CMD_ARGS", f"--user {owner[0]} --group {owner[1]}")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    given = []
    monkeypatch.setattr(metrics_folders.os, "chown", lambda path, uid, gid: given.append((path, uid, gid)))
    path = metrics_folders.new_metrics_dir(check_gunicorn_settings())
    assert given == [(path, *owner)]

    def refused(path, uid, gid):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(metrics_folders.os, "chown", refused)
    with pytest.raises(UsageError, match="cannot give the workers' metrics folder to them: Operation not permitted"):
        metrics_folders.new_metrics_dir(check_gunicorn_settings())
    assert [p.name for p in tmp_path.iterdir()] == [os.path.basename(path)]  # the refused one removed
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--timeout 120")
    assert check_gunicorn_settings() is None  # the same user: nothing to give


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_the_address_serve_prints_carries_the_path_prefix(tmp_path):
    """With SCRIPT_NAME=/braintumor (DEPLOY.md, behind a proxy's path prefix) serve printed http://127.0.0.1:PORT/,
    where gunicorn answers every request with its 500: the address to open is under the prefix."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path), "SCRIPT_NAME": "/braintumor"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([sys.executable, "-m", "braintumor", "serve", "--port", str(port), "--workers", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=40)
    assert f"on http://127.0.0.1:{port}/braintumor/ (gunicorn" in line, line


@pytest.fixture(scope="module")
def client():
    from braintumor.predictor import Classifier
    from braintumor.web import create_app

    return create_app(classifier=Classifier.load(threads=1)).test_client()


FORWARDED = {"X-Forwarded-For": "10.9.8.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
             "X-Forwarded-Prefix": "/elsewhere"}


@pytest.mark.parametrize("path", ["/", "/dashboard", "/api/v1/openapi.json", "/api/v1/model", "/healthz"])
def test_forwarded_headers_change_no_answer(client, path):
    """DEPLOY.md: no ProxyFix is needed behind a reverse proxy, because nothing the app sends depends on them."""
    plain, forwarded = client.get(path), client.get(path, headers=FORWARDED)
    assert plain.status_code == forwarded.status_code == 200
    assert plain.get_data() == forwarded.get_data()
    assert b"evil.example" not in forwarded.get_data() and b"https:" not in forwarded.get_data()


def test_links_follow_the_path_prefix_the_proxy_serves_under(client):
    """DEPLOY.md: SCRIPT_NAME=/braintumor (gunicorn puts it in each request's environ) prefixes every link."""
    page = client.get("/", base_url="http://localhost/braintumor/").get_data(as_text=True)  # SCRIPT_NAME
    links = re.findall(r'(?:href|src|action|data-api)="(/[^"]*)"', page)
    assert links and all(link.startswith("/braintumor/") for link in links), links


@pytest.mark.parametrize(("path", "base_url", "location"), [
    ("/api//v1/model", "http://localhost/", "/api/v1/model"),
    ("/api//v1/model?a=1&b=%2F", "http://localhost/", "/api/v1/model?a=1&b=%2F"),
    ("", "http://localhost/braintumor", "/braintumor/"),  # SCRIPT_NAME=/braintumor, the prefix without its slash
    ("/api/v1//openapi.json", "http://localhost/braintumor/", "/braintumor/api/v1/openapi.json"),
])
def test_redirects_name_no_host_or_scheme(client, path, base_url, location):
    """Werkzeug's redirects (merged slashes, a prefix without its slash) wrote an absolute Location from the Host
    header and the scheme (gunicorn takes it from X-Forwarded-Proto when a proxy on 127.0.0.1 sends one): behind a TLS
    proxy that sends none, ``http://public.example/...``. Relative, they are right whatever the proxy forwards."""
    for headers in ({}, {"Host": "public.example", **FORWARDED}):
        answer = client.get(path, base_url=base_url, headers=headers)
        assert answer.status_code == 308 and answer.headers["Location"] == location, answer.headers


@pytest.mark.parametrize(("base_url", "server"), [("http://localhost/", "/"),
                                                  ("http://localhost/braintumor/", "/braintumor")])
def test_openapi_document_names_the_path_prefix_its_api_is_under(client, base_url, server):
    """Under SCRIPT_NAME=/braintumor the document had no ``servers``: OpenAPI's default is ``/``, so a client built
    from it (Swagger UI's "Try it out", a generated one) sent /api/v1/predict to the host's root, outside the prefix."""
    doc = client.get("/api/v1/openapi.json", base_url=base_url, headers=FORWARDED).get_json()
    assert doc["servers"] == [{"url": server}]  # relative: the host and scheme are the document's own


@pytest.mark.skipif(sys.platform == "win32", reason="Windows does not delete a process's current folder")
def test_serve_from_a_folder_deleted_since_says_so_and_what_to_do(tmp_path):
    """Started in a folder deleted since the shell entered it (a build folder cleaned, a checkout moved), serve said
    ``error: [Errno 2] No such file or directory``, naming nothing: it now says the folder is gone, and to cd away."""
    gone = tmp_path / "gone"
    gone.mkdir()
    code = (f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); from braintumor.cli import main; "
            f"sys.exit(main(['serve', '--port', '{free_port()}']))")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "serving" not in done.stdout, done.stdout + done.stderr
    assert done.stderr.splitlines() == ["error: the current folder no longer exists (deleted or moved since the shell "
                                        "entered it): cd to a folder that exists, then run the command again"]
    assert not list(tmp_path.glob("braintumor-metrics-*"))  # none made, none left
