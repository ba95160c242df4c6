"""Prometheus metrics, the stats summary and the dashboard page, in one process (Flask's test client);
tests/test_monitoring_server.py checks the sums across gunicorn workers."""

from __future__ import annotations

import io
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from braintumor.web import create_app
from braintumor.web.monitoring import EXTENSION, error_kind, observe_results
from braintumor.web.stats import histogram_quantile


def scrape(client) -> dict[str, list[tuple[dict, float]]]:
    """GET /metrics, parsed: sample name -> [(labels, value)]."""
    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    out: dict[str, list[tuple[dict, float]]] = {}
    for family in text_string_to_metric_families(r.get_data(as_text=True)):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def value(samples: dict, name: str, **labels) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` (0 when there are none)."""
    return sum(v for lab, v in samples.get(name, []) if all(lab.get(k) == x for k, x in labels.items()))


def upload(client, path: str, files: list[tuple[str, bytes]], **kw):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(path, data=data, content_type="multipart/form-data", **kw)


@pytest.fixture()
def app(tiny_classifier):
    """A fresh app per test: its own registry, so every count starts at zero."""
    return create_app(classifier=tiny_classifier, max_upload_mb=1, max_files=4)


def test_real_uploads_move_the_counters(app, test_images, tiny_classifier):
    client = app.test_client()
    images = [(p.name, p.read_bytes()) for p in (test_images["glioma"][0], test_images["pituitary"][0])]
    r = upload(client, "/api/v1/predict", [*images, ("notes.jpg", b"not an image")])
    assert r.status_code == 200
    api_results = [rec for rec in r.get_json()["results"] if "label" in rec]
    page = upload(client, "/", [("m.jpg", test_images["meningioma"][0].read_bytes())])
    assert page.status_code == 200
    assert client.get("/nope").status_code == 404
    assert client.delete("/api/v1/model").status_code == 405
    assert client.get("/healthz").status_code == 200

    m = scrape(client)
    req = "braintumor_http_requests_total"
    assert value(m, req, endpoint="api.predict", status="200") == 1
    assert value(m, req, endpoint="pages.upload", status="200") == 1
    assert value(m, req, endpoint="unmatched", status="404") == 1
    assert value(m, req, endpoint="unmatched", status="405") == 1
    assert value(m, req, endpoint="api.healthz", status="200") == 1
    assert value(m, req) == 5  # /metrics itself is not counted
    assert not any("/" in lab["endpoint"] for lab, _ in m[req])  # endpoint names, never raw URLs

    lat = "braintumor_http_request_duration_seconds"
    assert value(m, f"{lat}_count", endpoint="api.predict") == 1
    assert value(m, f"{lat}_bucket", endpoint="api.predict", le="+Inf") == 1
    assert value(m, f"{lat}_sum", endpoint="api.predict") > 0

    predicted = [rec["label"] for rec in api_results] + [_page_label(page)]
    assert value(m, "braintumor_predictions_total") == 3
    for label in set(predicted):
        assert value(m, "braintumor_predictions_total", label=label) == predicted.count(label)
    assert value(m, "braintumor_prediction_confidence_count") == 3
    conf = sum(rec["confidence"] for rec in api_results)
    assert conf < value(m, "braintumor_prediction_confidence_sum") <= conf + 1.0
    assert value(m, "braintumor_ood_refusals_total") == 0

    assert value(m, "braintumor_errors_total", kind="invalid_image") == 1
    assert value(m, "braintumor_errors_total", kind="not_found") == 1
    assert value(m, "braintumor_errors_total", kind="method_not_allowed") == 1

    meta = tiny_classifier.metadata
    [(info, one)] = m["braintumor_model_info"]
    assert one == 1 and info == {"name": meta["name"], "version": meta["model_version"],
                                 "data_fingerprint": meta["data_fingerprint"], "quantized": "false"}


def test_model_info_tells_the_int8_copy_from_the_float_model(tiny_classifier):
    """The shipped int8 copy has the float model's name, version and data fingerprint: a replica serving it (other
    temperature, other refusals) looked the same in braintumor_model_info as one serving the float model."""
    from braintumor.predictor import Classifier

    meta = {**tiny_classifier.metadata, "quantization": {"method": "int8"}}
    int8 = create_app(classifier=Classifier(tiny_classifier.session, meta))
    [(info, one)] = scrape(int8.test_client())["braintumor_model_info"]
    assert one == 1 and info["quantized"] == "true" and info["version"] == meta["model_version"]


def test_a_client_gone_mid_upload_is_a_disconnect_not_a_bad_request(tiny_classifier, caplog):
    """A client that closed its connection before the end of its body (a tab closed, a network dropped) was counted as
    a ``bad_request``, timed as a refusal, and said nothing in the log: a flaky network looked like broken clients.
    Still answered 400 (a client that only half-closed reads why), counted and logged as a ``client_disconnect``."""
    app = create_app(classifier=tiny_classifier)
    client, inner = app.test_client(), app.wsgi_app

    def as_werkzeugs_server(environ, start_response):  # it sets no wsgi.input_terminated (gunicorn: True)
        if environ.get("wsgi.input_terminated") is False:
            del environ["wsgi.input_terminated"]
        return inner(environ, start_response)

    app.wsgi_app = as_werkzeugs_server
    boundary = "x" * 24
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode() + bytes(100)

    def cut(body: bytes, content_type: str, gunicorn: bool = True, path: str = "/api/v1/predict"):
        """``body`` under a Content-Length of 5000: as gunicorn hands it over (a stream that ends), or as Werkzeug's
        development server does (its ClientDisconnected)."""
        return client.post(path, input_stream=io.BytesIO(body), content_type=content_type, headers={"Accept": "*/*"},
                           environ_overrides={"CONTENT_LENGTH": "5000", "wsgi.input_terminated": gunicorn})

    assert cut(b"\xff\xd8" + bytes(100), "image/jpeg").get_json()["error"].startswith(
        "the request body ended after 102 of the 5,000 bytes its Content-Length announced: the upload was cut short")
    assert "ended after" in cut(form, f"multipart/form-data; boundary={boundary}").get_json()["error"]
    page = cut(form, f"multipart/form-data; boundary={boundary}", path="/")
    assert page.status_code == 400 and "The request body ended after" in page.text
    assert cut(b"\xff\xd8" + bytes(100), "image/jpeg", gunicorn=False).get_json() == {"error": (
        "the request body ended before its end (the connection closed early): the upload was cut short; send the "
        "file again")}  # was "The browser (or proxy) sent a request that this server could not understand."
    assert client.post("/api/v1/predict", data=b"", content_type="image/jpeg").status_code == 400  # a bad request
    m = scrape(client)
    assert value(m, "braintumor_errors_total", kind="client_disconnect") == 4
    assert value(m, "braintumor_errors_total", kind="bad_request") == 1
    assert value(m, "braintumor_http_requests_total", status="400") == 5  # what was answered
    assert value(m, "braintumor_http_request_duration_seconds_count") == 1  # the client's time is not timed
    said = [r.getMessage() for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(said) == 4 and all(s.startswith("client disconnected before the end of its request body (request id ")
                                  for s in said), said
    assert client.get("/api/v1/stats").get_json()["errors"] == {"client_disconnect": 4, "bad_request": 1}


def _page_label(page) -> str:
    """The class the no-JavaScript page reported, from its top bar."""
    html = page.get_data(as_text=True)
    return re.search(r'class="bar bar-top" data-class="([a-z]+)"', html).group(1)


def test_rejected_requests_are_errors_by_kind(app, test_images):
    client = app.test_client()
    assert upload(client, "/api/v1/predict", [("bad.jpg", b"x")]).status_code == 400  # the only file is bad
    assert client.post("/api/v1/predict", data={}, content_type="multipart/form-data").status_code == 400
    big = test_images["glioma"][0].read_bytes() * 200  # > 1 MB
    assert upload(client, "/api/v1/predict", [("big.jpg", big)]).status_code == 413
    m = scrape(client)
    assert value(m, "braintumor_errors_total", kind="bad_request") == 2
    assert value(m, "braintumor_errors_total", kind="invalid_image") == 1
    assert value(m, "braintumor_errors_total", kind="too_large") == 1
    assert value(m, "braintumor_http_requests_total", endpoint="api.predict", status="413") == 1
    assert value(m, "braintumor_predictions_total") == 0


class _SilentBody(io.BytesIO):
    """A body whose client has gone silent: each read times out, as gunicorn's socket does (a 408)."""

    def read(self, *args):
        raise BlockingIOError

    readinto = readline = read


def test_a_408_is_counted_but_not_timed_as_a_prediction(app):
    """A 408's time is the client's, not sending its body, up to --request-timeout: one slow client's 408 made the
    dashboard's prediction latency p95 7.25 s (and the documented p95 alert fire) over predictions of 0.3 s."""
    client = app.test_client()
    r = client.post("/api/v1/predict", input_stream=_SilentBody(), headers={"Content-Type": "image/png"},
                    environ_overrides={"CONTENT_LENGTH": "5000"})
    assert r.status_code == 408
    m = scrape(client)
    assert value(m, "braintumor_http_requests_total", endpoint="api.predict", status="408") == 1
    assert value(m, "braintumor_errors_total", kind="client_error") == 1
    assert value(m, "braintumor_http_request_duration_seconds_count", endpoint="api.predict") == 0
    assert client.get("/api/v1/stats").get_json()["latency_seconds"]["predict"]["count"] == 0


def test_refused_predict_requests_are_timed_apart_from_predictions(app, test_images):
    """Refusals (415, 400: a millisecond each) were timed with the predictions under the same series: 30 ``text/csv``
    posts after 10 predictions took the dashboard's p95 from 175 ms to 44 ms. The histogram's ``code`` label (2xx,
    4xx, 5xx) keeps them apart, and /api/v1/stats's prediction latency is the 2xx series'."""
    client = app.test_client()
    assert upload(client, "/api/v1/predict", [("g.jpg", test_images["glioma"][0].read_bytes())]).status_code == 200
    for _ in range(3):
        assert client.post("/api/v1/predict", data=b"a,b", content_type="text/csv").status_code == 415
    assert upload(client, "/", [("notes.jpg", b"not an image")]).status_code == 400
    m, lat = scrape(client), "braintumor_http_request_duration_seconds"
    assert value(m, f"{lat}_count", endpoint="api.predict", code="2xx") == 1
    assert value(m, f"{lat}_count", endpoint="api.predict", code="4xx") == 3
    assert value(m, f"{lat}_count", endpoint="pages.upload", code="4xx") == 1
    latency = client.get("/api/v1/stats").get_json()["latency_seconds"]
    assert latency["predict"]["count"] == 1 and latency["predict"]["buckets"][-1] == ["+Inf", 1]
    assert latency["all"]["count"] == 5


#: A PromQL selector of the latency histogram's series: its name, then its labels where it has any.
_LATENCY_SERIES = re.compile(r"braintumor_http_request_duration_seconds_(?:bucket|count|sum)\b(\{[^}]*\})?")


def test_every_documented_query_of_the_latency_histogram_names_its_code():
    """Since the histogram has a ``code`` label, a query without it (``{endpoint="api.predict"}``) times refusals of a
    millisecond with the answered predictions again, and its p95 falls the more requests are refused. Every query of
    the docs and deployment files (PromQL blocks, prometheus.yml's comments) says which ``code`` it means."""
    from conftest import REPO

    files = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")), *sorted((REPO / "deploy").iterdir()),
             REPO / "compose.yaml"]
    found = [(f.relative_to(REPO), m.group(0)) for f in files if f.is_file()
             for m in _LATENCY_SERIES.finditer(f.read_text(encoding="utf-8"))]
    assert len(found) >= 2  # DEPLOY.md's p95, deploy/prometheus.yml's
    unfiltered = [(f, q) for f, q in found if not re.search(r"[{,]\s*code\s*(?:=|!=|=~|!~)", q)]
    assert unfiltered == []


def test_ood_results_count_as_refusals_not_as_classes(app):
    records = [{"path": "a", "label": "glioma", "confidence": 0.9, "ood": False},
               {"path": "b", "label": "notumor", "confidence": 0.4, "ood": True},
               {"path": "c", "label": "glioma", "confidence": 0.8}]  # no "ood" key: in distribution
    with app.test_request_context():
        observe_results(records)
    m = scrape(app.test_client())
    assert value(m, "braintumor_ood_refusals_total") == 1
    assert value(m, "braintumor_predictions_total", label="glioma") == 2
    assert value(m, "braintumor_predictions_total", label="notumor") == 0
    stats = app.test_client().get("/api/v1/stats").get_json()
    assert stats["ood"] == {"refusals": 1, "turned": 0, "images": 3, "rate": pytest.approx(1 / 3)}


def test_refusals_on_their_side_are_counted_apart_as_a_part_of_all_refusals(app):
    """A slice refused as turned on its side is a brain MRI to rotate and resend: braintumor_ood_refusals_total alone
    (described as "not brain MRI") counted it with the images unlike brain MRI. It still counts every refusal, so
    dashboards and alerts on it keep their meaning; braintumor_turned_refusals_total counts the turned ones again."""
    from braintumor.orientation import TURN_ADVICE

    side = {"label": None, "confidence": None, "ood": True, "reason": f"Not classified: it looks turned; {TURN_ADVICE}"}
    records = [{"path": "a", "label": "glioma", "confidence": 0.9, "ood": False},
               {"path": "b", "label": None, "confidence": None, "ood": True, "reason": "Not classified: far"},
               {"path": "c", **side}, {"path": "d", **side}]
    fresh = scrape(app.test_client())
    assert value(fresh, "braintumor_turned_refusals_total") == 0 and "braintumor_turned_refusals_total" in fresh
    with app.test_request_context():
        observe_results(records)
    m = scrape(app.test_client())
    assert value(m, "braintumor_ood_refusals_total") == 3
    assert value(m, "braintumor_turned_refusals_total") == 2
    assert value(m, "braintumor_predictions_total") == 1
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert "# HELP braintumor_ood_refusals_total Images refused as out of distribution (not brain MRI)" not in text
    assert "a part of braintumor_ood_refusals_total" in text
    # upside-down refusals are counted there too: the help said "turned on their side" (the names stay)
    assert "# HELP braintumor_turned_refusals_total Images refused as turned 90 degrees or upside down" in text
    assert "on their side" not in text
    stats = app.test_client().get("/api/v1/stats").get_json()
    assert stats["ood"] == {"refusals": 3, "turned": 2, "images": 4, "rate": pytest.approx(3 / 4)}


def test_answers_flagged_for_review_are_counted_among_the_classified(app):
    records = [{"path": "a", "label": "glioma", "confidence": 0.95, "ood": False, "review": True},
               {"path": "b", "label": "glioma", "confidence": 0.999, "ood": False, "review": False},
               {"path": "c", "label": None, "confidence": None, "ood": True, "review": False},
               {"path": "d", "label": "pituitary", "confidence": 0.9}]  # no "review" key: not flagged
    with app.test_request_context():
        observe_results(records)
    assert value(scrape(app.test_client()), "braintumor_review_flags_total") == 1
    stats = app.test_client().get("/api/v1/stats").get_json()
    assert stats["review"] == {"flagged": 1, "classified": 3, "rate": pytest.approx(1 / 3)}


def test_monitoring_routes_and_static_files_are_not_counted(app):
    client = app.test_client()
    for path in ("/metrics", "/api/v1/stats", "/static/app.css", "/metrics"):
        assert client.get(path).status_code == 200
    assert client.get("/dashboard").status_code == 200
    m = scrape(client)
    assert value(m, "braintumor_http_requests_total") == 1
    assert value(m, "braintumor_http_requests_total", endpoint="monitoring.dashboard") == 1


def test_static_files_are_counted_when_they_fail(app):
    """A 404 under /static/ (a flood of them: a scanner, a stale page) shows, under the one label ``static``, never the
    path; the page's own files, which every view loads, stay out of the counts."""
    client = app.test_client()
    assert client.get("/static/app.css").status_code == 200
    for name in ("nothing.js", "jane-doe.png"):
        assert client.get(f"/static/{name}").status_code == 404
    m = scrape(client)
    assert value(m, "braintumor_http_requests_total", endpoint="static", status="404") == 2
    assert value(m, "braintumor_http_requests_total", endpoint="static") == 2
    assert value(m, "braintumor_errors_total", kind="not_found") == 2
    assert "jane-doe" not in client.get("/metrics").get_data(as_text=True)


def test_each_app_counts_alone_and_apps_can_be_built_again_and_again(tiny_classifier, test_images):
    apps = [create_app(classifier=tiny_classifier) for _ in range(3)]  # no "Duplicated timeseries"
    upload(apps[0].test_client(), "/api/v1/predict", [("g.jpg", test_images["glioma"][1].read_bytes())])
    assert value(scrape(apps[0].test_client()), "braintumor_predictions_total") == 1
    assert value(scrape(apps[1].test_client()), "braintumor_predictions_total") == 0
    assert apps[0].extensions[EXTENSION].registry is not apps[1].extensions[EXTENSION].registry


def test_stats_run_is_one_per_server_start(app, tiny_classifier, tmp_path, monkeypatch):
    """``run`` tells the dashboard a restarted server (its counters from zero) from the same one: the same at every
    poll and in every gunicorn worker of one start (their metrics folder), another at the next start."""
    def run(a) -> str:
        return a.test_client().get("/api/v1/stats").get_json()["run"]

    first = run(app)
    assert re.fullmatch(r"[0-9a-f]{16}", first) and run(app) == first
    assert run(create_app(classifier=tiny_classifier)) != first  # restarted, in one process
    starts = []
    for folder in ("start-1", "start-2"):
        (tmp_path / folder).mkdir()
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / folder))
        workers = [create_app(classifier=tiny_classifier) for _ in range(2)]
        assert run(workers[0]) == run(workers[1])  # any worker answers the poll
        starts.append(run(workers[0]))
    assert starts[0] != starts[1] and str(tmp_path) not in starts[0]


def test_stats_agree_with_the_metrics(app, test_images, tiny_classifier):
    client = app.test_client()
    for cls in ("glioma", "notumor"):
        upload(client, "/api/v1/predict", [(p.name, p.read_bytes()) for p in test_images[cls][:2]])
    client.get("/healthz")
    m = scrape(client)
    stats = client.get("/api/v1/stats").get_json()
    assert stats["multiprocess"] is False
    assert stats["requests"]["total"] == value(m, "braintumor_http_requests_total") == 3
    assert stats["requests"]["by_endpoint"] == {"api.predict": 2, "api.healthz": 1}
    assert stats["requests"]["by_status"] == {"200": 3}
    assert list(stats["predictions"]["by_class"]) == list(tiny_classifier.classes)  # every class, in order
    assert stats["predictions"]["total"] == sum(stats["predictions"]["by_class"].values()) == 4
    for c, n in stats["predictions"]["by_class"].items():
        assert n == value(m, "braintumor_predictions_total", label=c)
    lat = stats["latency_seconds"]["predict"]
    assert lat["count"] == 2 and lat["buckets"][-1] == ["+Inf", 2]
    assert 0 < lat["p50"] <= lat["p95"] <= 30
    assert stats["latency_seconds"]["all"]["count"] == 3
    conf = stats["confidence"]
    assert conf["count"] == 4 and 0.25 <= conf["mean"] <= 1 and conf["sum"] == pytest.approx(4 * conf["mean"])
    assert stats["model"]["version"] == tiny_classifier.metadata["model_version"]
    assert stats["errors"] == {}



def test_known_series_are_there_from_the_start_at_zero(app, tiny_classifier):
    """A labelled counter appeared with its first increment, at 1. Prometheus's rate() and increase() need a
    sample before it, so the first internal error (or the first "pituitary") after a start never showed in them:
    an alert on increase(braintumor_errors_total{kind="internal"}[5m]) > 0 missed a lone 500."""
    m = scrape(app.test_client())
    classes = dict.fromkeys(tiny_classifier.classes, 0)
    assert {lab["label"]: v for lab, v in m["braintumor_predictions_total"]} == classes
    kinds = {"bad_request", "not_found", "method_not_allowed", "too_large", "client_error", "internal", "invalid_image",
             "model_failure", "timeout", "client_disconnect"}
    assert {lab["kind"]: v for lab, v in m["braintumor_errors_total"]} == dict.fromkeys(kinds, 0)
    assert app.test_client().get("/api/v1/stats").get_json()["errors"] == {}  # the JSON lists the errors there were

def test_histogram_quantile_is_prometheus_estimate():
    inf = float("inf")
    buckets = [(0.1, 2.0), (0.5, 4.0), (inf, 4.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert histogram_quantile(0.75, buckets) == pytest.approx(0.3)  # halfway into (0.1, 0.5]
    assert histogram_quantile(0.25, buckets) == pytest.approx(0.05)  # the first bucket starts at 0
    assert histogram_quantile(0.9, [(0.1, 1.0), (inf, 4.0)]) == pytest.approx(0.1)  # +Inf: highest finite bound
    assert histogram_quantile(0.5, [(0.1, 0.0), (inf, 0.0)]) is None
    assert histogram_quantile(0.5, [(0.5, 0.0), (1.0, 2.0), (inf, 2.0)]) == pytest.approx(0.75)  # empty bucket skipped
    with pytest.raises(ValueError, match="quantile"):
        histogram_quantile(1.5, buckets)


def test_error_kinds_are_a_fixed_small_set():
    assert [error_kind(s) for s in (200, 302, 400, 404, 405, 413, 418, 500, 501, 503)] == [
        None, None, "bad_request", "not_found", "method_not_allowed", "too_large", "client_error", "internal",
        "client_error", "internal"]


def test_a_transfer_coding_the_server_does_not_undo_counts_as_the_clients_error(tiny_classifier):
    """The 501 for ``Transfer-Encoding: gzip, chunked`` is the client's choice of coding: counted as "internal" it
    would fire an alert on the server's own faults."""
    app = create_app(classifier=tiny_classifier)
    r = app.test_client().post("/api/v1/predict", data=b"x", headers={"Transfer-Encoding": "gzip, chunked"})
    assert r.status_code == 501
    m = scrape(app.test_client())
    assert value(m, "braintumor_errors_total", kind="client_error") == 1
    assert value(m, "braintumor_errors_total", kind="internal") == 0


def test_unexpected_errors_count_as_internal(tiny_classifier, monkeypatch):
    app = create_app(classifier=tiny_classifier)

    def boom():
        raise RuntimeError("model exploded")

    monkeypatch.setattr(app, "view_functions", {**app.view_functions, "api.model": boom})
    assert app.test_client().get("/api/v1/model").status_code == 500
    m = scrape(app.test_client())
    assert value(m, "braintumor_errors_total", kind="internal") == 1
    assert value(m, "braintumor_http_requests_total", endpoint="api.model", status="500") == 1


def test_dashboard_page_is_local_and_scripted_from_static_files(app):
    client = app.test_client()
    r = client.get("/dashboard")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert "dashboard.js" in html and "dashboard.css" in html and 'id="stat-p95"' in html
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S)
    assert scripts and all(s.strip() == "" for s in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html) and "style=" not in html
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "Not a medical device" in html and r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    js = client.get("/static/dashboard.js")
    assert js.status_code == 200 and js.mimetype == "text/javascript"
    assert re.findall(r"https?://[^\"' ]+", js.get_data(as_text=True)) == ["http://www.w3.org/2000/svg"]
    assert client.get("/static/dashboard.css").mimetype == "text/css"


def test_every_metric_is_in_the_deploy_docs_table(app):
    """docs/DEPLOY.md's table is where people look up what a series means (braintumor_turned_refusals_total was
    new): each one /metrics gives has its row."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(braintumor_[a-z_]+)` \|", doc, flags=re.M))
    served = {f.name + ("_total" if f.type == "counter" else "") for f in app.extensions[EXTENSION].registry.collect()}
    assert served and served <= rows, served - rows


def test_stats_counts_are_integers_before_and_after_requests(app):
    """``requests.total`` was int 0 on a fresh server and a float (14.0) afterwards: every count is an integer, from the
    start on; sums, rates and quantiles stay numbers with fractions."""
    client = app.test_client()

    def counts(stats: dict) -> list:
        latency = stats["latency_seconds"]["all"]
        return [stats["requests"]["total"], *stats["requests"]["by_endpoint"].values(),
                *stats["requests"]["by_status"].values(), stats["predictions"]["total"],
                *stats["predictions"]["by_class"].values(), stats["ood"]["refusals"], stats["ood"]["turned"],
                stats["ood"]["images"], stats["review"]["flagged"], stats["review"]["classified"],
                *stats["errors"].values(), stats["workers"], latency["count"], *(c for _, c in latency["buckets"])]

    fresh = client.get("/api/v1/stats").get_json()
    for path in ("/healthz", "/nothing", "/healthz"):
        client.get(path)
    later = client.get("/api/v1/stats").get_json()
    assert later["requests"]["total"] == 3 and later["errors"] == {"not_found": 1}
    for stats in (fresh, later):
        assert all(type(c) is int for c in counts(stats)), counts(stats)


def test_options_requests_are_counted_apart_not_as_fast_predictions():
    """Flask answers OPTIONS on every route (204): each was an ``api.predict`` request of a fraction of a millisecond,
    in the prediction latency the dashboard and DEPLOY.md's p95 query read, and in its requests/s. They are counted
    under ``options``; one to no route stays ``unmatched``, the monitoring routes and static files uncounted."""
    from braintumor.model_files import default_model_path
    from braintumor.predictor import Classifier

    if not default_model_path().exists():
        pytest.skip("no shipped model")
    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    for path in ("/api/v1/predict", "/api/v1/predict", "/", "/api/v1/model", "/metrics", "/static/app.js", "/nope",
                 "*"):
        client.options(path)
    m, req, lat = scrape(client), "braintumor_http_requests_total", "braintumor_http_request_duration_seconds"
    # OPTIONS * (the server's options, web/options.py) with them: it was a 404 of no route
    assert value(m, req, endpoint="options", status="204") == 5 and value(m, req, endpoint="unmatched") == 1
    assert value(m, req) == 6 and value(m, f"{lat}_count", endpoint="api.predict") == 0
    stats = client.get("/api/v1/stats").get_json()
    assert stats["latency_seconds"]["predict"]["count"] == 0 and "api.predict" not in stats["requests"]["by_endpoint"]
