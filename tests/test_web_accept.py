"""Errors off the API's paths: the page for people, JSON for a client whose Accept asks for it."""

from __future__ import annotations

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
