"""Errors off the API's paths: the page for people, JSON for a client whose Accept asks for it."""

from __future__ import annotations

import io

import pytest

from braintumor.web import create_app


@pytest.fixture(scope="module")
def client(tiny_classifier):
    return create_app(classifier=tiny_classifier, max_upload_mb=4, max_files=5).test_client()


def test_an_error_off_the_api_is_json_for_a_client_that_asks_for_json(client):
    """A JSON client with a wrong base URL (/v1/predict, /api/v1/predict under another prefix) got an 8 kB HTML page
    though its Accept asked for JSON; browsers (text/html first) and curl (*/*) still get the page."""
    for accept in ("application/json", "application/json, text/plain;q=0.5", "text/html;q=0.1, application/json"):
        r = client.post("/v1/predict", headers={"Accept": accept})
        assert (r.status_code, r.mimetype, r.get_json()) == (404, "application/json", {"error": "not found"}), accept
    r = client.put("/", headers={"Accept": "application/json"})
    assert r.status_code == 405 and r.get_json() == {"error": "method PUT not allowed here"} and r.headers["Allow"]
    for accept in ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "*/*", None):
        r = client.get("/nothing", headers={"Accept": accept} if accept else {})
        assert r.status_code == 404 and r.mimetype == "text/html", accept
        for path in ("/api", "/api/"):  # the API's root, as curl asks it (*/*): its page was HTML
            r = client.post(path, headers={"Accept": accept} if accept else {})
            assert (r.status_code, r.get_json()) == (404, {"error": "not found"}), (path, accept)
        assert client.get("/apis", headers={"Accept": accept} if accept else {}).mimetype == "text/html"


def test_a_client_asking_for_problem_json_gets_the_apis_json_error(client):
    """A client written to RFC 9457 (Accept: application/problem+json, alone or first) got the HTML 404 page off the
    API's paths; now the API's one kind of error, application/json's ``{"error": ...}``, as on the API's paths. A
    browser that ranks text/html above it still gets the page."""
    for accept in ("application/problem+json", "application/problem+json, application/json;q=0.9",
                   "text/html;q=0.1, application/problem+json"):
        r = client.get("/nothing", headers={"Accept": accept})
        assert (r.status_code, r.mimetype, r.get_json()) == (404, "application/json", {"error": "not found"}), accept
        api = client.get("/api/v1/nothing", headers={"Accept": accept})
        assert (api.mimetype, api.get_json()) == (r.mimetype, r.get_json())  # the same type on and off the API
    for accept in ("text/html, application/problem+json;q=0.5", "*/*"):
        assert client.get("/nothing", headers={"Accept": accept}).mimetype == "text/html", accept


def test_images_posted_to_the_page_by_a_json_client_are_pointed_to_the_api(client, test_images):
    """A client that asks for JSON and posts its images to the page's address (a base URL without /api/v1/predict) got
    the results page, HTML with the heat maps in base64, and without a file the page's HTML 400, though an error off
    the API is JSON for it. Now a JSON 406 that names the API's route, before any image is classified. A browser's
    form post (text/html first) and curl's (*/*) get the page as before."""
    image = test_images["glioma"][0].read_bytes()
    for accept in ("application/json", "application/problem+json", "text/html;q=0.5, application/json"):
        for form in ({"file": [(io.BytesIO(image), "a.jpg")]}, {}):
            r = client.post("/", data=form, content_type="multipart/form-data", headers={"Accept": accept})
            assert (r.status_code, r.mimetype) == (406, "application/json"), (accept, form)
            assert "POST /api/v1/predict" in r.get_json()["error"]
    for accept in ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "*/*"):
        r = client.post("/", data={"file": [(io.BytesIO(image), "a.jpg")]}, content_type="multipart/form-data",
                        headers={"Accept": accept})
        assert (r.status_code, r.mimetype) == (200, "text/html"), accept
        assert client.post("/", headers={"Accept": accept}).mimetype == "text/html"


MACHINE_ROUTES = ("/healthz", "/metrics", "/api/v1/model", "/api/v1/openapi.json", "/api/v1/stats")


def test_a_machine_route_with_a_trailing_slash_is_the_same_route(client, test_images):
    """A health check or scrape configured as /healthz/ or /metrics/ got Flask's HTML 404 page (so a load balancer
    marked the server down, Prometheus read no metrics); the API's paths a JSON 404. Each answers as without it."""
    for path in MACHINE_ROUTES:
        plain, slashed = client.get(path), client.get(path + "/")
        assert (slashed.status_code, slashed.mimetype) == (plain.status_code, plain.mimetype) == (
            200, "text/plain" if path == "/metrics" else "application/json"), path
    assert client.get("/healthz/").get_json() == client.get("/healthz").get_json()
    assert client.head("/healthz/").status_code == 200
    image = test_images["glioma"][0].read_bytes()
    r = client.post("/api/v1/predict/", data={"file": [(io.BytesIO(image), "a.jpg")]},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and r.get_json()["results"][0]["path"] == "a.jpg"
    for path in ("/healthz/", "/metrics/"):  # its errors are JSON, as the route's without the slash (Allow: HTTP's)
        r = client.post(path)
        assert (r.status_code, r.mimetype, r.get_json()) == (405, "application/json",
                                                             {"error": "method POST not allowed here"}), path
        assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    before = _count(client, "api.healthz", "200")
    client.get("/healthz/")
    assert _count(client, "api.healthz", "200") == before + 1  # counted under its route, not as unmatched
    for path in ("/dashboard/", "/nothing/"):  # the pages' paths are as they were: the page's 404 for people
        r = client.get(path)
        assert (r.status_code, r.mimetype) == (404, "text/html"), path


def _count(client, endpoint: str, status: str) -> float:
    """braintumor_http_requests_total of one route and status, from /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(s.value for f in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
               for s in f.samples if s.name == "braintumor_http_requests_total"
               and s.labels == {"endpoint": endpoint, "status": status})


def test_a_host_header_no_url_can_be_built_for_is_a_400_that_says_so_never_a_traceback(client, caplog):
    """Werkzeug cannot build URLs for a Host with an empty or over-63-character part (``Host: .example.com``): the
    error page's links then raised, a traceback in the log and the server's own 500 page for any path off the API; the
    API said "The browser (or proxy) sent a request that this server could not understand". Now a sentence, as JSON
    for the API and as text elsewhere (no page: its links cannot be built)."""
    said = ("the host in the request's Host header (or its request line) is not a valid host name: a dot-separated "
            "part of it is empty, longer than 63 characters, or not allowed in a name")
    for host in (".example.com", "a" * 64 + ".example.com", "scanner..local"):
        for path in ("/", "/nothing", "/dashboard", "/static/app.js"):
            r = client.get(path, headers={"Host": host})
            assert (r.status_code, r.mimetype, r.get_data(as_text=True)) == (400, "text/plain", said + "\n"), path
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        for path in ("/api/v1/model", "/healthz", "/metrics"):
            r = client.get(path, headers={"Host": host})
            assert (r.status_code, r.get_json()) == (400, {"error": said}), path
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []
