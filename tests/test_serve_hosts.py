"""``serve`` on a loopback address answers loopback Host names only (``--allowed-host`` adds names): a page of another
site that points its own name at 127.0.0.1 (DNS rebinding) read /api/v1/stats, /metrics and the dashboard's data from
a server on the user's machine, which answered every Host."""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import urllib.error
import urllib.request

import pytest
from serve_process import free_port, running_serve, running_waitress

from braintumor.cli import main
from braintumor.host_names import LOOPBACK_NAMES, host_name
from braintumor.web import create_app
from braintumor.web.hosts import allowed_hosts, host_refused

HOST_REFUSED = host_refused(LOOPBACK_NAMES)  # what a server on 127.0.0.1 without --allowed-host says

#: Names a rebinding page (or a mistake) sends; none is a loopback name.
OTHER_HOSTS = ("evil.example", "evil.example:5000", "127.0.0.1.nip.io", "localhost.evil.example", "[::1].evil.example",
               "scanner..local", "127.1", "0x7f.0.0.1", "2130706433", "010.0.0.1", "::1", "[127.0.0.1]")
#: Addresses, which a rebinding page cannot send (its Host is its own name): answered on any port.
ADDRESS_HOSTS = ("[::2]:5000", "127.0.0.2", "10.0.0.5:8000", "172.18.0.3:8000", "192.0.2.7", "[fd00::5]:80")
LOOPBACK_HOSTS = ("localhost", "localhost:5000", "LocalHost:80", "127.0.0.1", "127.0.0.1:8000", "[::1]", "[::1]:5000")


@pytest.fixture(scope="module")
def loopback_client(tiny_classifier):
    return create_app(classifier=tiny_classifier, allowed_hosts=allowed_hosts("127.0.0.1")).test_client()


def test_a_loopback_server_refuses_other_host_names_with_a_400_that_says_why(loopback_client, caplog):
    """JSON on the API's paths, one line of text elsewhere (no page: it holds the model's name); never a traceback."""
    for host in OTHER_HOSTS:
        for path in ("/api/v1/stats", "/metrics", "/healthz", "/api/v1/model"):
            r = loopback_client.get(path, headers={"Host": host})
            assert (r.status_code, r.get_json()) == (400, {"error": HOST_REFUSED}), (host, path)
        for path in ("/", "/dashboard", "/static/app.js", "/nothing"):
            r = loopback_client.get(path, headers={"Host": host, "Accept": "text/html"})
            assert (r.status_code, r.mimetype, r.get_data(as_text=True)) == (400, "text/plain", HOST_REFUSED + "\n")
        r = loopback_client.post("/api/v1/predict", headers={"Host": host}, data={})
        assert r.status_code == 400 and r.get_json() == {"error": HOST_REFUSED}
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


def test_a_loopback_server_answers_its_loopback_names_on_any_port(loopback_client):
    for host in LOOPBACK_HOSTS:
        for path in ("/healthz", "/api/v1/stats", "/", "/dashboard"):
            assert loopback_client.get(path, headers={"Host": host}).status_code == 200, (host, path)
    assert loopback_client.get("/healthz", environ_overrides={"HTTP_HOST": None}).status_code == 200  # HTTP/1.0


def test_an_ip_address_host_is_answered_on_any_port(loopback_client):
    """Only a name can be rebound: a Host that is an address is a page of this server's (the Compose Prometheus's
    scrape of a replica by its address, a Kubernetes probe of a pod's), never another site's. Address-like names
    (``127.1``, ``2130706433``, which browsers rewrite before sending) are not taken for one: refused above."""
    for host in ADDRESS_HOSTS:
        for path in ("/metrics", "/api/v1/stats", "/"):
            assert loopback_client.get(path, headers={"Host": host}).status_code == 200, (host, path)


def test_the_refusal_names_the_names_this_server_answers(tiny_classifier):
    """--host 127.0.0.2 is answered, as every address is, so the refusal says so; --allowed-host's names are counted
    only."""
    client = create_app(classifier=tiny_classifier, allowed_hosts=allowed_hosts("127.0.0.2")).test_client()
    error = client.get("/api/v1/stats", headers={"Host": "evil.example"}).get_json()["error"]
    assert ("it answers localhost and any IP address (more with serve --allowed-host NAME or "
            "$BRAINTUMOR_ALLOWED_HOSTS;") in error  # a container's operator sets the variable, not its command
    assert client.get("/healthz", headers={"Host": "127.0.0.2:5000"}).status_code == 200
    many = allowed_hosts("127.0.0.1", [f"scanner{n}.example" for n in range(10)])
    client = create_app(classifier=tiny_classifier, allowed_hosts=many).test_client()
    error = client.get("/", headers={"Host": "evil.example", "Accept": "text/html"}).get_data(as_text=True)
    assert "it answers localhost, 10 names its operator gave and any IP address (more with" in error
    assert "scanner" not in error  # the operator's own names are not told to whoever sent another Host


@pytest.mark.parametrize(("answered", "said"), [
    (["x.example"], "it answers 1 name its operator gave and any IP address (more with"),
    (["x.example", "y.example"], "it answers 2 names its operator gave and any IP address (more with"),
    (["127.0.0.1"], "it answers any IP address (more with"),
    (["localhost"], "it answers localhost and any IP address (more with"),
    (["localhost", "[::1]", "x.example"], "it answers localhost, 1 name its operator gave and any IP address (more"),
    (["localhost", "127.0.0.2", "a.example", "b.example"], "it answers localhost, 2 names its operator gave and any IP "
     "address (more with"),
])
def test_the_refusal_reads_for_any_names_answered(answered, said):
    """Without a loopback name (``create_app(allowed_hosts=["x.example"])`` from Python) it said "it answers , 1 name
    its operator gave", and "it answers  and any IP address" for addresses only."""
    assert said in host_refused(answered)


def test_an_ipv4_loopback_written_as_ipv6_answers_the_loopback_names_only():
    """``--host ::ffff:127.0.0.1`` listens where only this machine reaches, as 127.0.0.1 does, but answered every Host
    (Python's is_loopback says no to an IPv4-mapped address): the DNS-rebinding check was off on a loopback server."""
    loopback = ["localhost", "127.0.0.1", "[::1]"]
    assert allowed_hosts("::ffff:127.0.0.1") == [*loopback, "[::ffff:7f00:1]"]  # what a browser there is sent to
    assert allowed_hosts("[::ffff:127.0.0.2]") == [*loopback, "[::ffff:7f00:2]"]
    assert allowed_hosts("::ffff:192.0.2.7") is None  # another machine's address, as 192.0.2.7


def test_which_names_each_address_answers():
    loopback = ["localhost", "127.0.0.1", "[::1]"]
    assert allowed_hosts("127.0.0.1") == allowed_hosts("localhost") == allowed_hosts("::1") == loopback
    assert allowed_hosts("127.0.0.2") == [*loopback, "127.0.0.2"]  # what a browser there is sent to
    assert allowed_hosts("127.0.0.1", ["Scanner.Example.", "::1"]) == [*loopback, "scanner.example"]
    assert allowed_hosts("127.0.0.1", ["*"]) is None  # every one
    for bind in ("0.0.0.0", "::", "192.0.2.7", "myserver"):  # the names clients use are not known here
        assert allowed_hosts(bind) is None
        assert allowed_hosts(bind, ["scanner.example"]) == [*loopback, "scanner.example"]
    for bad in ("scanner.example:8000", "http://scanner.example", "scanner.example/", "", "a b", "[::1]:80"):
        with pytest.raises(ValueError, match="without a scheme, path or port"):
            host_name(bad)


def test_serve_allowed_host_adds_names_and_says_what_it_answers(tiny_model, monkeypatch, capsys):
    """Through the command line to the app serve builds (the debug server's, not run)."""
    apps = []
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: apps.append(self))
    assert main(["serve", "--model", str(tiny_model), "--debug", "--port", "5055",
                 "--allowed-host", "Scanner.Example", "--allowed-host", "10.1.2.3"]) == 0
    out = capsys.readouterr().out
    assert "; Host localhost, scanner.example or any IP address); Ctrl+C to stop" in out
    client = apps[-1].test_client()
    for host, status in (("scanner.example:443", 200), ("10.1.2.3", 200), ("localhost:5055", 200),
                         ("evil.example", 400), ("scanner.example.evil.example", 400)):
        assert client.get("/api/v1/stats", headers={"Host": host}).status_code == status, host
    assert main(["serve", "--model", str(tiny_model), "--debug", "--host", "0.0.0.0", "--port", "5055"]) == 0
    assert "; any Host); Ctrl+C to stop" in capsys.readouterr().out
    assert apps[-1].test_client().get("/healthz", headers={"Host": "evil.example"}).status_code == 200
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--allowed-host", "scanner.example:443"])
    assert exc.value.code == 2
    assert "argument --allowed-host: 'scanner.example:443' is not a host name" in capsys.readouterr().err


def test_braintumor_allowed_hosts_names_them_without_editing_a_containers_command(tiny_model, monkeypatch, capsys):
    """The image serves on 0.0.0.0, which answered every Host, and its command is the image's: the names come from
    $BRAINTUMOR_ALLOWED_HOSTS (comma-separated), which --allowed-host replaces when given; empty is unset."""
    apps = []
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: apps.append(self))
    serve = ["serve", "--model", str(tiny_model), "--debug", "--host", "0.0.0.0", "--port", "5055"]

    def answered(value: str | None, *args: str) -> tuple[str, dict[str, int]]:
        if value is None:
            monkeypatch.delenv("BRAINTUMOR_ALLOWED_HOSTS", raising=False)
        else:
            monkeypatch.setenv("BRAINTUMOR_ALLOWED_HOSTS", value)
        assert main([*serve, *args]) == 0
        said = re.search(r"; (any Host|Host [^;]*)\); Ctrl\+C to stop", capsys.readouterr().out).group(1)
        client = apps[-1].test_client()
        hosts = ("localhost:8000", "scanner.example", "other.example:443", "172.18.0.3:8000", "evil.example")
        return said, {h: client.get("/api/v1/stats", headers={"Host": h}).status_code for h in hosts}

    said, status = answered("localhost,127.0.0.1")  # the image's
    assert said == "Host localhost or any IP address"
    assert status == {"localhost:8000": 200, "scanner.example": 400, "other.example:443": 400,
                      "172.18.0.3:8000": 200, "evil.example": 400}
    said, status = answered(" Scanner.Example, other.example.,,")  # spaces, case, a final dot, empty items
    assert said == "Host localhost, scanner.example, other.example or any IP address"
    assert [h for h, s in status.items() if s == 200] == ["localhost:8000", "scanner.example", "other.example:443",
                                                         "172.18.0.3:8000"]
    said, status = answered("scanner.example", "--allowed-host", "other.example")  # the option replaces it
    assert said == "Host localhost, other.example or any IP address" and status["scanner.example"] == 400
    for unset in (None, "", " , "):  # on 0.0.0.0: every Host, as before
        said, status = answered(unset)
        assert said == "any Host" and set(status.values()) == {200}, unset
    assert answered("*")[0] == "any Host"


@pytest.mark.parametrize("value", ["http://scanner.example", "scanner.example:8000", "scanner.example/", "a b"])
def test_a_bad_braintumor_allowed_hosts_is_one_line_naming_it(tiny_model, monkeypatch, capsys, value):
    """Not a traceback, and never taken as "every Host" or as no name: exit 2 before anything serves."""
    monkeypatch.setenv("BRAINTUMOR_ALLOWED_HOSTS", f"localhost,{value}")
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: None)  # were it taken, no server left running
    assert main(["serve", "--model", str(tiny_model), "--debug", "--host", "0.0.0.0", "--port", "5055"]) == 2
    out, err = capsys.readouterr()
    assert err == (f"error: BRAINTUMOR_ALLOWED_HOSTS: {value!r} is not a host name or address: give the name alone, "
                   "without a scheme, path or port (every port is answered); it takes host names separated by commas, "
                   "e.g. localhost,braintumor.example.org, or * for every one\n")
    assert "serving" not in out


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize(("code", "unloaded"), [
    ("import braintumor.web", ["braintumor.serve_settings"]),
    ("from braintumor.serve_settings import environment_hosts\nassert environment_hosts() == ['scanner.example']",
     ["flask", "braintumor.web"]),
    ("from braintumor.cli import main\nmain(['serve', '--allowed-host', 'Scanner.Example', '--help'])",
     ["flask", "braintumor.web"])])
def test_the_web_app_and_serves_settings_share_the_host_names_without_importing_each_other(code, unloaded, tmp_path):
    """The web app imported serve's settings for the loopback names, and those imported the web app back (inside a
    function) to read $BRAINTUMOR_ALLOWED_HOSTS: an import loop, and Flask loaded to check a name before serve --help.
    Both take the names from host_names, each alone in a fresh process here."""
    import os
    import subprocess
    import sys

    from conftest import REPO

    script = (f"import json, sys\ntry:\n    {code.replace(chr(10), chr(10) + '    ')}\nexcept SystemExit:\n    pass\n"
              f"print(json.dumps([m for m in {unloaded!r} if m in sys.modules]))")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), BRAINTUMOR_ALLOWED_HOSTS="scanner.example")
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == []


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_a_bracketed_ipv6_host_is_the_address_a_url_writes(tiny_model, monkeypatch, capsys):
    """--host [::1], as a URL writes it, was refused as a mistyped host name (exit 2) while --host ::1 served."""
    runs = []
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: runs.append(kw["host"]))
    port = free_port()
    for host in ("[::1]", "::1"):
        assert main(["serve", "--model", str(tiny_model), "--debug", "--host", host, "--port", str(port)]) == 0, host
        assert f"on http://[::1]:{port}/ " in capsys.readouterr().out
    assert runs == ["::1", "::1"]
    for typo in ("[127.0.0.1]", "[::1", "[::x]"):  # no IPv6 address in brackets: as before
        assert main(["serve", "--model", str(tiny_model), "--debug", "--host", typo, "--port", str(port)]) == 2, typo
        assert capsys.readouterr().err.startswith(f"error: cannot listen on {typo}:{port}: ")


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_a_taken_port_on_an_ipv6_host_is_named_as_a_url_writes_it(tiny_model, monkeypatch, capsys):
    """``cannot listen on ::1:5000``: the port could be read as the address's last group; ``[::1]:5000`` cannot."""
    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("serve went on to start gunicorn"))
    with socket.socket(socket.AF_INET6) as held:
        held.bind(("::1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert main(["serve", "--model", str(tiny_model), "--host", "::1", "--port", str(port)]) == 75
    assert capsys.readouterr().err.startswith(f"error: cannot listen on [::1]:{port}: Address already in use")


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.parametrize("host", ["fe80::1%lo", "[fe80::1%1]"])
def test_an_ipv6_host_with_a_zone_is_refused_before_gunicorn(tiny_model, monkeypatch, capsys, host):
    """``--host fe80::...%eth0`` (a link-local address, its interface named) passed the check, serve said it was
    serving, and gunicorn, which takes an IPv6 address without a zone only, took it for a host name and gave up after
    5 s of "connection ... failed: Address family for hostname not supported" (exit status 1)."""
    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("serve went on to start gunicorn"))
    port = free_port()
    assert main(["serve", "--model", str(tiny_model), "--host", host, "--port", str(port)]) == 2
    shown = host if host.startswith("[") else f"[{host}]"
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"error: cannot listen on {shown}:{port}: gunicorn takes no zone (%")
    assert "--host ::" in err and err.count("\n") == 1


@pytest.mark.parametrize(("host", "fixed"), [("localhost:5000", "--host localhost --port 5000"),
                                             ("127.0.0.1:8080", "--host 127.0.0.1 --port 8080"),
                                             ("[::1]:5000", "--host [::1] --port 5000")])
@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_port_typed_into_host_is_a_usage_error_before_any_lookup(tiny_model, monkeypatch, capsys, host, fixed,
                                                                      debug):
    """``--host localhost:5000`` was looked up as a name: "cannot listen on localhost:5000:18999: Name or service not
    known"; now it says to give the port with --port, exit status 2, before the resolver is asked."""
    from braintumor.host_names import typed_port

    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("serve went on to start gunicorn"))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kw: pytest.fail("the host was looked up"))
    assert main(["serve", "--model", str(tiny_model), "--host", host, "--port", "18999", *debug]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: --host {host} has a port in it: give the port with --port ({fixed})\n"
    for address in ("::1", "fe80::1:5000", "::ffff:127.0.0.1", "localhost", "[::1]", "localhost:", ":5000", "a:b:1"):
        assert typed_port(address) is None, address  # an IPv6 address's last group is no port


@pytest.mark.parametrize(("host", "said"), [
    ("http://localhost:5000", "its host alone, and its port with --port (--host localhost --port 5000)"),
    ("https://[::1]:8443/", "its host alone, and its port with --port (--host [::1] --port 8443)"),
    ("HTTP://Scanner.Example/app", "its host alone (--host Scanner.Example)"),
    ("http://", "its host alone (e.g. --host 127.0.0.1)")])
@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_url_typed_into_host_is_a_usage_error_before_any_lookup(tiny_model, monkeypatch, capsys, host, said, debug):
    """``--host http://localhost:5000`` (a URL copied from a browser) was looked up as a name: "cannot listen on
    http://localhost:5000:18999: Name or service not known"; now it says what to give, exit 2, before the resolver."""
    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("serve went on to start gunicorn"))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kw: pytest.fail("the host was looked up"))
    assert main(["serve", "--model", str(tiny_model), "--host", host, "--port", "18999", *debug]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: --host {host} is a URL: give {said}\n"


@pytest.mark.parametrize(("host", "said"), [
    (":5000", "has a port in it: give the port with --port (--host 127.0.0.1 --port 5000, or --host 0.0.0.0 --port "
              "5000 for every interface)"),
    ("localhost:", "ends with ':' and no port: give the host alone (--host localhost), and a port with --port"),
    ("[::1]:", "ends with ':' and no port: give the host alone (--host [::1]), and a port with --port")])
@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_port_without_its_host_or_a_colon_without_its_port_is_a_usage_error(tiny_model, monkeypatch, capsys, host,
                                                                              said, debug):
    """``--host :5000`` (Go's and Flask's every-interface spelling) and ``--host localhost:`` were looked up as names:
    "cannot listen on :5000:18999: Name or service not known"; now a usage error, exit status 2, before any lookup."""
    from braintumor.host_names import host_and_port

    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("serve went on to start gunicorn"))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kw: pytest.fail("the host was looked up"))
    assert main(["serve", "--model", str(tiny_model), "--host", host, "--port", "18999", *debug]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: --host {host} {said}\n"
    for address in ("::1", "fe80::", "::", "fe80::1:5000", "localhost", "[::1]", ":", "a:b:1", "[::1]:x"):
        assert host_and_port(address) is None, address  # no port, or an IPv6 address's own colons


def test_serve_port_0_from_python_is_refused_where_the_server_cannot_say_its_port(tiny_model, monkeypatch, capsys):
    """``serve(port=0, debug=True)`` said "serving ... on http://127.0.0.1:0/" while Flask listened on a port it chose
    and nobody was told; gunicorn's socket, bound by serve, names the port chosen. (The CLI's --port takes 1-65535.)"""
    from braintumor.exit_errors import UsageError
    from braintumor.serve import serve

    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: pytest.fail("Flask's server was started"))
    with pytest.raises(UsageError, match=r"^port 0 \(any free port\) is for gunicorn only: the Flask development "
                                         r"server \(debug\) would listen on a port serve cannot name"):
        serve(port=0, debug=True, model=str(tiny_model))
    assert capsys.readouterr().out == ""
    if sys.platform != "win32":  # gunicorn: the port the system chose, in the serving line
        monkeypatch.setattr(os, "execv", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt))
        with pytest.raises(KeyboardInterrupt):
            serve(port=0, model=str(tiny_model), workers=1)
        port = int(re.search(r" on http://127\.0\.0\.1:(\d+)/ ", capsys.readouterr().out)[1])
        assert port > 0


def test_the_serving_line_writes_an_ipv6_zone_as_a_url_does(tiny_model, monkeypatch, capsys):
    """``serve --debug --host fe80::1%eth0`` said ``http://[fe80::1%eth0]:PORT/``: a URL writes the zone's ``%`` as
    ``%25`` (RFC 6874); the address alone, in an error, stays as typed."""
    import braintumor.serve as serve_mod
    from braintumor.host_names import server_url

    runs = []
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: runs.append(kw["host"]))
    monkeypatch.setattr(serve_mod, "check_port", lambda host, port: None)  # no such address here to bind
    assert main(["serve", "--model", str(tiny_model), "--debug", "--host", "fe80::1%eth0", "--port", "18999"]) == 0
    assert " on http://[fe80::1%25eth0]:18999/ (Flask" in capsys.readouterr().out
    assert runs == ["fe80::1%eth0"]  # the address itself, as the socket takes it
    assert server_url("::1", 5000) == "http://[::1]:5000/" and server_url("127.0.0.1", 80, "/x/") == "http://127.0.0.1:80/x/"


@pytest.mark.parametrize("debug", [True, False])
def test_a_zone_copied_from_a_url_is_decoded_in_brackets(tiny_model, monkeypatch, capsys, debug):
    """``--host [fe80::1%25eth0]``, copied from a URL (RFC 6874 writes the zone's ``%`` as ``%25``), was the zone
    ``25eth0`` to ipaddress: no such interface. In brackets, ``%25`` is ``%``: the interface is ``eth0``."""
    import braintumor.serve as serve_mod
    from braintumor.host_names import listen_address

    runs = []
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: runs.append(kw["host"]))
    monkeypatch.setattr(serve_mod, "check_port", lambda host, port: None)  # no such address here to bind
    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("serve went on to start gunicorn"))
    argv = ["serve", "--model", str(tiny_model), "--host", "[fe80::1%25eth0]", "--port", "18999"]
    if debug:
        assert main([*argv, "--debug"]) == 0
        assert " on http://[fe80::1%25eth0]:18999/ (Flask" in capsys.readouterr().out
        assert runs == ["fe80::1%eth0"]
    elif sys.platform != "win32":
        assert main(argv) == 2
        assert capsys.readouterr().err.startswith("error: cannot listen on [fe80::1%eth0]:18999: gunicorn takes no "
                                                  "zone (%eth0)")
    assert listen_address("[fe80::1%25en%2D0]") == "fe80::1%en-0"  # the zone's other escapes, decoded too
    for given in ("fe80::1%25eth0", "[fe80::1%25]", "[127.0.0.1]"):  # a bare address is no URL's; no zone; no IPv6
        assert listen_address(given) == given


def test_a_host_name_is_listened_on_at_its_ipv4_address_as_gunicorn_would(monkeypatch):
    """serve binds the port for gunicorn (``--bind fd://N``), which bound a name at its IPv4 address: where the resolver
    lists ``localhost``'s ::1 first, serve must not move a server proxied at 127.0.0.1 to ::1."""
    from braintumor import serve_settings

    real = socket.getaddrinfo

    def v6_first(host, port, *args, **kwargs):
        if host != "localhost":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", port, 0, 0)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(serve_settings.socket, "getaddrinfo", v6_first)
    with serve_settings.listen_socket("localhost", 0, backlog=8) as s:
        assert s.family == socket.AF_INET and s.getsockname()[0] == "127.0.0.1"
    with serve_settings.listen_socket("::1", 0, backlog=8) as s:  # an IPv6 address: itself
        assert s.family == socket.AF_INET6


#: Request lines in absolute form (``GET http://name/path``, as sent to a proxy), the Host header sent with each (None:
#: none, HTTP/1.0) and the status it gets: a name not answered in either is refused. The check saw only HTTP_HOST, which
#: gunicorn and waitress fill from the header and Werkzeug from the request line, so each server let one form through.
ABSOLUTE_FORM = [("http://evil.example/api/v1/stats", "localhost", 400),
                 ("http://localhost/api/v1/stats", "evil.example", 400),
                 ("http://localhost@evil.example/api/v1/stats", "localhost", 400),
                 ("HTTP://EVIL.EXAMPLE:80/api/v1/stats", "127.0.0.1", 400),
                 ("http://evil.example/api/v1/stats", None, 400),
                 ("http://127.0.0.1:{port}/api/v1/stats", "localhost", 200),
                 ("http://localhost/api/v1/stats", None, 200),
                 ("/api/v1/stats", "localhost", 200)]


def _status(port: int, target: str, host: str | None) -> int:
    line = f"GET {target} HTTP/1.1\r\nHost: {host}\r\n" if host else f"GET {target} HTTP/1.0\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"{line}Connection: close\r\n\r\n".encode())
        answer = b"".join(iter(lambda: s.recv(4096), b""))
    status = int(answer.split(b" ", 2)[1])
    assert status != 400 or b"names a host this server does not answer to" in answer, answer  # the app refused it
    return status


def _absolute_form_statuses(port: int) -> list[int]:
    return [_status(port, target.format(port=port), host) for target, host, _ in ABSOLUTE_FORM]


def test_waitress_and_the_debug_server_refuse_a_request_line_naming_another_host(tiny_model, tiny_classifier,
                                                                                   tmp_path):
    """gunicorn's: in the test below. Werkzeug's development server (``serve --debug``) put the request line's name
    in HTTP_HOST, where the Host header had been, and waitress (``serve`` on Windows) left it aside."""
    with running_waitress(create_app(classifier=tiny_classifier, allowed_hosts=allowed_hosts("127.0.0.1"))) as port:
        assert _absolute_form_statuses(port) == [status for *_, status in ABSOLUTE_FORM]
    with running_serve(tmp_path, "--model", str(tiny_model), "--debug") as server:
        assert _absolute_form_statuses(server.port) == [status for *_, status in ABSOLUTE_FORM]


def test_the_gunicorn_workers_refuse_other_hosts(tmp_path):
    """The names reach the workers through gunicorn's app factory: a real server on 127.0.0.1."""
    with running_serve(tmp_path, "--workers", "1", "--allowed-host", "scanner.example") as server:
        def get(host: str) -> tuple[int, dict]:
            ask = urllib.request.Request(f"{server.base}/api/v1/stats", headers={"Host": host})
            try:
                with urllib.request.urlopen(ask, timeout=10) as r:
                    return r.status, json.load(r)
            except urllib.error.HTTPError as exc:
                return exc.code, json.load(exc)

        assert get("evil.example") == (400, {"error": host_refused([*LOOPBACK_NAMES, "scanner.example"])})
        assert get(f"localhost:{server.port}")[0] == get("scanner.example")[0] == 200
        assert _absolute_form_statuses(server.port) == [status for *_, status in ABSOLUTE_FORM]
    assert "; Host localhost, scanner.example or any IP address)" in server.output()


def test_a_request_line_naming_no_valid_host_is_said_so_not_blamed_on_the_host_header(tiny_model, tmp_path):
    """``serve --debug`` answering every host (as on 0.0.0.0): Werkzeug's server builds URLs for the host of an
    absolute-form request line, and one it cannot (``GET http://a..b/``, a valid ``Host: localhost``) was told its
    Host header was not a valid host name."""
    from braintumor.web.hosts import BAD_HOST

    def answer(raw: str) -> tuple[int, str]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(raw.encode())
            head, _, body = b"".join(iter(lambda: s.recv(4096), b"")).partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body.decode()

    with running_serve(tmp_path, "--model", str(tiny_model), "--debug", "--allowed-host", "*") as server:
        for target, host in (("http://a..b/", "localhost"), ("/", "a..b")):
            status, said = answer(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
            assert (status, said) == (400, BAD_HOST + "\n") and "Host header (or its request line)" in said
        status, said = answer("GET http://a..b/api/v1/model HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert status == 400 and json.loads(said) == {"error": BAD_HOST}


def test_the_start_lines_the_docs_show_are_what_serve_says():
    """docs/WEB.md and docs/DEPLOY.md quote serve's first line (``Host localhost, 127.0.0.1, [::1]`` until IP addresses
    were always answered): each quote is web.hosts.described of the names it lists."""
    from conftest import REPO

    from braintumor.web.hosts import described

    text = " ".join((REPO / "docs/WEB.md").read_text().split() + (REPO / "docs/DEPLOY.md").read_text().split())
    shown = set(re.findall(r"`(Host [^`]*|any Host)`", text))
    assert "any Host" in shown and len(shown) >= 3, shown
    for line in shown - {"any Host"}:
        names = re.split(r", | or ", line.removeprefix("Host ").removesuffix(" or any IP address"))
        assert described(allowed_hosts("127.0.0.1", [n for n in names if n != "localhost"])) == line
    assert described(allowed_hosts("0.0.0.0")) == "any Host"
