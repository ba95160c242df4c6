"""Prometheus metrics for the web app: ``GET /metrics``, the ``GET /api/v1/stats`` summary and the
``/dashboard`` page that polls it.

Each app gets its own :class:`~prometheus_client.CollectorRegistry`, so the many apps a test run builds
never collide ("Duplicated timeseries"). Under gunicorn (``braintumor serve``) every worker is a separate
process: ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before the workers start,
prometheus-client then keeps each worker's values in files there, and a scrape adds up all the workers'
files (:class:`~prometheus_client.multiprocess.MultiProcessCollector`), whichever worker answers it.

Labels stay bounded: routes are Flask endpoint names (never raw URLs), classes come from the model,
error kinds from a fixed list.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, g, jsonify, render_template, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ..prediction import REVIEW_BELOW
from ..predictor import Classifier
from ..series import turned
from ..sessions import is_int8
from ..wording import LOWER_CONFIDENCE, UNREADABLE
from .disconnects import CLIENT_DISCONNECT, client_went_away, count_disconnects
from .model_failures import model_failed
from .options import is_server_options
from .stats import summarize

#: Where the metrics live in ``app.extensions``.
EXTENSION = "braintumor_metrics"
#: Endpoints not counted: the monitoring routes themselves (scrapes and dashboard polls).
NOT_COUNTED = frozenset({"monitoring.metrics", "monitoring.stats"})
#: Endpoints counted only when they fail (400 or more): static files, whose 200s and 304s come with every page view
#: (noise), but whose 404s were in no count at all, a flood of them included.
ERRORS_ONLY = frozenset({"static"})
#: The endpoint label of requests that matched no route (404, 405).
UNMATCHED = "unmatched"
#: The endpoint label of an OPTIONS request to a route (Flask answers it for every route, 204), and of ``OPTIONS *``
#: (web/options.py): under the route's own label, a preflight or probe was an ``api.predict`` request of 0.1 ms, and
#: the prediction latency p95 fell with them.
OPTIONS = "options"
#: Seconds; from a health check (~1 ms) to a full batch with heat maps (seconds).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: The top-class probability of a 4-class model is at least 0.25.
CONFIDENCE_BUCKETS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
#: HTTP error statuses by the name the ``kind`` label gives them; other 4xx are "client_error", 5xx "internal" but
#: 501, a transfer coding the client chose that no server here undoes (``gzip, chunked``): the client's, not a fault.
HTTP_ERROR_KINDS = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
#: The ``kind`` of a file that could not be read (its record carries ``error``; the page and the CLI say "unreadable").
IMAGE_ERROR = "invalid_image"
#: The ``kind`` of a file the server's model gave scores that are not finite for (web/model_failures.py): the model's
#: fault, not the upload's, counted per file apart from ``invalid_image``.
MODEL_FAILURE = "model_failure"
#: The ``kind`` of a worker gunicorn's master killed for running past ``--timeout`` (gunicorn answers its own 500, the
#: app never sees the request end): counted by :func:`count_timeout`, from gunicorn_config.py's ``worker_abort``.
TIMEOUT = "timeout"
#: Every ``kind`` this module gives (each series exists from the start, at 0); ``client_disconnect``: a client that
#: closed its connection mid-body, answered 400 (web/disconnects.py), not counted as a ``bad_request``.
ERROR_KINDS = (*HTTP_ERROR_KINDS.values(), "client_error", "internal", IMAGE_ERROR, MODEL_FAILURE, TIMEOUT,
               CLIENT_DISCONNECT)

bp = Blueprint("monitoring", __name__)


@dataclass(frozen=True)
class Metrics:
    """One app's metric objects, registered in its own registry."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    predictions: Counter
    confidence: Histogram
    ood: Counter
    turned: Counter
    review: Counter
    errors: Counter
    model_info: Gauge
    workers: Gauge
    #: This app's start, in one process (:func:`run_id`).
    run: str = field(default_factory=lambda: secrets.token_hex(8))

    @classmethod
    def create(cls, metadata: dict, classes: tuple[str, ...] = ()) -> Metrics:
        reg = CollectorRegistry()
        m = cls(
            registry=reg,
            requests=Counter("braintumor_http_requests", "HTTP requests by route (Flask endpoint) and status.",
                             ["endpoint", "status"], registry=reg),
            # code: a refusal (415, 413: a millisecond) is no prediction; timed with them, it pulled their p95 down
            latency=Histogram("braintumor_http_request_duration_seconds", "Time to answer a request, by route and "
                              "status class (code 2xx: the predictions' latency, not their refusals').",
                              ["endpoint", "code"], buckets=LATENCY_BUCKETS, registry=reg),
            predictions=Counter("braintumor_predictions", "Images classified, by predicted class.", ["label"],
                                registry=reg),
            confidence=Histogram("braintumor_prediction_confidence", "Top-class probability of each classified image.",
                                 buckets=CONFIDENCE_BUCKETS, registry=reg),
            # every refusal, as before (dashboards and alerts on it keep their meaning); those turned, a quarter or
            # upside down (brain MRI to rotate upright and resend), are counted again, apart, in
            # braintumor_turned_refusals (names kept: only the help said "on their side", which upside down is not)
            ood=Counter("braintumor_ood_refusals", "Images refused, not classified: unlike brain MRI, or turned "
                        "(braintumor_turned_refusals_total, a part of this count).", registry=reg),
            turned=Counter("braintumor_turned_refusals", "Images refused as turned 90 degrees or upside down: "
                           "brain MRI to rotate upright and resend; a part of braintumor_ood_refusals_total.",
                           registry=reg),
            review=Counter("braintumor_review_flags", f"Classified images answered with {LOWER_CONFIDENCE} (under "
                           f"{REVIEW_BELOW}, review true): their share rises when scans come from a new source.",
                           registry=reg),
            errors=Counter("braintumor_errors", f"Errors by kind: HTTP errors, {UNREADABLE} files ({IMAGE_ERROR}), "
                           f"files the model gave scores that are not finite ({MODEL_FAILURE}) and clients gone "
                           f"before the end of their upload ({CLIENT_DISCONNECT}).",
                           ["kind"], registry=reg),
            # "livemax": a dead worker's series goes with it (gunicorn_config.child_exit); "max" kept a replaced
            # worker's model at 1 for good in its slot's file, beside its successor's other model
            model_info=Gauge("braintumor_model_info", "The model this server runs (value 1).",
                             ["name", "version", "data_fingerprint", "quantized"], multiprocess_mode="livemax",
                             registry=reg),
            workers=Gauge("braintumor_workers", "Processes serving requests (gunicorn workers alive).",
                          multiprocess_mode="livesum", registry=reg),
        )
        m.workers.set(1)
        # Series with known labels start at 0: one that first appears at 1 is invisible to rate() and increase()
        # (a lone 500 after a start never raised an alert).
        for label in classes:
            m.predictions.labels(label=label)
        for kind in ERROR_KINDS:
            m.errors.labels(kind=kind)
        m.model_info.labels(name=str(metadata.get("name", "unknown")),
                            version=str(metadata.get("model_version", "unknown")),
                            data_fingerprint=str(metadata.get("data_fingerprint", "unknown")),
                            quantized=str(is_int8(metadata)).lower()).set(1)
        return m


def multiprocess_dir() -> str | None:
    """The directory shared by gunicorn's workers, when there is one (set by ``braintumor serve``)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _WithoutCreated:
    """One process's metrics without prometheus-client's ``*_created`` samples. The text format gives each its own
    gauge family, under the help text of its counter or histogram ("HTTP requests by route", its value a Unix time):
    eight families docs/DEPLOY.md never lists, which only one-process servers (waitress) gave, never gunicorn's."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self):
        for family in self.registry.collect():  # fresh objects each time: changing them changes no metric
            family.samples = [s for s in family.samples if s.name != family.name + "_created"]
            yield family


def run_id(app: Flask) -> str:
    """This server's start, for the dashboard to tell a restart (counters from zero) from the same server: under
    gunicorn the metrics folder's, which every worker shares and each start makes afresh (SIGHUP keeps it), hashed
    (its path names the master's pid), else the app's own."""
    path = multiprocess_dir()
    if path:
        return hashlib.sha256(os.path.realpath(path).encode()).hexdigest()[:16]
    return app.extensions[EXTENSION].run


def registry_to_read(app: Flask) -> CollectorRegistry:
    """What a scrape reads: every worker's files in multiprocess mode, else this app's registry (the same families)."""
    path = multiprocess_dir()
    reg = CollectorRegistry(auto_describe=False)
    if path:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(reg, path=path)
    else:
        reg.register(_WithoutCreated(app.extensions[EXTENSION].registry))
    return reg


def error_kind(status: int) -> str | None:
    if status in HTTP_ERROR_KINDS:
        return HTTP_ERROR_KINDS[status]
    if 400 <= status < 500 or status == 501:
        return "client_error"
    return "internal" if status >= 500 else None


def observe_results(records: list[dict]) -> None:
    """Count one request's per-file results: classes, confidences, review flags, refusals (those turned also
    apart: a brain MRI to rotate and resend, not one unlike brain MRI), unreadable files, files the model failed on."""
    m: Metrics | None = current_app.extensions.get(EXTENSION)
    if m is None:
        return
    for rec in records:
        if "error" in rec:
            m.errors.labels(kind=MODEL_FAILURE if model_failed(rec) else IMAGE_ERROR).inc()
        elif rec.get("ood"):
            m.ood.inc()
            if turned(rec):
                m.turned.inc()
        else:
            m.predictions.labels(label=rec["label"]).inc()
            m.confidence.observe(float(rec["confidence"]))
            if rec.get("review"):
                m.review.inc()


def count_model_failure() -> None:
    """Count a model failure that left no record of its own: a scan's heat maps (web/volumes.py), drawn with the model
    run again after its records were answered, once per scan (its log line was the only trace: no ``model_failure``)."""
    m: Metrics | None = current_app.extensions.get(EXTENSION)
    if m is not None:
        m.errors.labels(kind=MODEL_FAILURE).inc()


def count_timeout(app: Flask) -> None:
    """Count a worker timeout, in the dying worker: its metric files outlive it (the next worker in its slot carries
    on in them), so the count shows in every later scrape."""
    m: Metrics | None = app.extensions.get(EXTENSION)
    if m is not None:
        m.errors.labels(kind=TIMEOUT).inc()


def status_class(status: int) -> str:
    """The latency's ``code`` label: ``2xx``, ``4xx``... (bounded, where ``status`` has a series per code)."""
    return f"{status // 100}xx"


def _count(m: Metrics, endpoint: str, status: int, seconds: float) -> None:
    """One answered request in the request, latency and error metrics (:func:`_finished`). A 408 is not timed: its
    time is the client's, not sending its body, up to ``--request-timeout`` (one slow client's raised the prediction
    latency p95 from 0.3 s to 7 s); nor is a client's that went away mid-body (web/disconnects.py), counted as a
    ``client_disconnect``, not a ``bad_request``."""
    m.requests.labels(endpoint=endpoint, status=str(status)).inc()
    gone = client_went_away()  # its 400 the client's leaving, not a malformed request; its time the client's too
    if status != 408 and not gone:
        m.latency.labels(endpoint=endpoint, code=status_class(status)).observe(seconds)
    kind = CLIENT_DISCONNECT if gone else error_kind(status)
    if kind:
        m.errors.labels(kind=kind).inc()


def _started() -> None:
    g.braintumor_started = time.perf_counter()


def _finished(response: Response) -> Response:
    endpoint = request.endpoint or UNMATCHED
    started = g.pop("braintumor_started", None)
    if endpoint in NOT_COUNTED or started is None or (endpoint in ERRORS_ONLY and response.status_code < 400):
        return response
    if request.method == "OPTIONS" and (endpoint != UNMATCHED or is_server_options(request.environ)):
        endpoint = OPTIONS
    _count(current_app.extensions[EXTENSION], endpoint, response.status_code, time.perf_counter() - started)
    return response


def init_monitoring(app: Flask, classifier: Classifier) -> None:
    """Give ``app`` its metrics, the request hooks that feed them, and the monitoring routes."""
    app.extensions[EXTENSION] = Metrics.create(classifier.metadata, classifier.classes)
    app.before_request(_started)
    app.after_request(_finished)
    count_disconnects(app)  # a client gone mid-body: its 400 noted for _count
    app.register_blueprint(bp)


@bp.get("/metrics", strict_slashes=False)
def metrics() -> Response:
    """Prometheus text format (all gunicorn workers together)."""
    return Response(generate_latest(registry_to_read(current_app)), content_type=CONTENT_TYPE_LATEST)


@bp.get("/api/v1/stats", strict_slashes=False)
def stats() -> Response:
    """The dashboard's numbers: cumulative counts and histogram buckets, computed from the same metrics."""
    st = current_app.extensions["braintumor"]
    out = summarize(registry_to_read(current_app), list(st.classifier.classes))
    out["multiprocess"] = multiprocess_dir() is not None
    out["run"] = run_id(current_app)
    return jsonify(out)


@bp.get("/dashboard")
def dashboard() -> str:
    return render_template("dashboard.html", state=current_app.extensions["braintumor"])
