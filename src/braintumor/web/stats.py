"""The ``/api/v1/stats`` summary: the Prometheus metrics (web/monitoring.py) read back into plain JSON.

Everything is cumulative since the server started; the dashboard takes differences between two polls
for rates and recent quantiles, exactly as Prometheus's ``rate`` and ``histogram_quantile`` would.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

from prometheus_client import CollectorRegistry

#: Routes whose latency is a prediction's (the API and the no-JavaScript form).
PREDICT_ENDPOINTS = ("api.predict", "pages.upload")
#: The latency's ``code`` of an answered prediction: a refusal (4xx, about a millisecond) is none, and its time
#: pulled the prediction latency p95 down (from 175 ms to 44 ms with 30 refusals after 10 predictions).
ANSWERED = "2xx"

Buckets = list[tuple[float, float]]


def histogram_quantile(q: float, buckets: Buckets) -> float | None:
    """Prometheus's estimate of the q-quantile from cumulative ``(upper bound, count)`` buckets.

    Linear interpolation inside the bucket that holds the rank; the lowest bucket starts at 0; a rank in
    the +Inf bucket gives the highest finite bound. None when there are no observations.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be within [0, 1], got {q}")
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank and count > below:
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower


def _histogram(samples: dict, name: str, keep=lambda labels: True) -> dict:
    """count, sum, cumulative buckets (summed over the kept label sets), p50 and p95."""
    by_le: dict[float, float] = defaultdict(float)
    total, count = 0.0, 0
    for labels, value in samples.get(f"{name}_bucket", []):
        if keep(labels):
            by_le[float(labels["le"])] += value
    for labels, value in samples.get(f"{name}_sum", []):
        total += value if keep(labels) else 0.0
    for labels, value in samples.get(f"{name}_count", []):
        count += _count(value) if keep(labels) else 0
    buckets = sorted((le, _count(c)) for le, c in by_le.items())
    return {"count": count, "sum": total, "buckets": [[_le(le), c] for le, c in buckets],
            "p50": histogram_quantile(0.5, buckets), "p95": histogram_quantile(0.95, buckets)}


def _le(bound: float) -> float | str:
    return "+Inf" if math.isinf(bound) else bound


def _count(value: float) -> int:
    """A counter's value as the count it is: prometheus-client keeps floats, so ``requests.total`` was 0 on a fresh
    server and 14.0 afterwards (the JSON's type changed under a client that checks it)."""
    return round(value)


def _total(samples: dict, name: str) -> int:
    return sum(_count(v) for _, v in samples.get(name, []))


def _by(samples: dict, name: str, label: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for labels, value in samples.get(name, []):
        out[labels.get(label, "")] += _count(value)
    return dict(out)


def summarize(registry: CollectorRegistry, classes: list[str]) -> dict:
    """Cumulative counts, latency and confidence histograms, class mix, review flags, refusals (``ood.turned``: those
    turned, a quarter or upside down, a part of ``ood.refusals``), errors, model."""
    samples: dict[str, list[tuple[dict, float]]] = defaultdict(list)
    for family in registry.collect():
        for s in family.samples:
            samples[s.name].append((s.labels, s.value))

    by_endpoint = _by(samples, "braintumor_http_requests_total", "endpoint")
    by_status = _by(samples, "braintumor_http_requests_total", "status")
    predicted = _by(samples, "braintumor_predictions_total", "label")
    by_class = {c: predicted.pop(c, 0) for c in classes} | predicted
    refused = _total(samples, "braintumor_ood_refusals_total")
    turned = _total(samples, "braintumor_turned_refusals_total")  # a part of ``refused``
    images = sum(by_class.values()) + refused
    confidence = _histogram(samples, "braintumor_prediction_confidence")
    flagged = _total(samples, "braintumor_review_flags_total")
    classified = sum(by_class.values())
    info = [labels for labels, value in samples.get("braintumor_model_info", []) if value]
    return {
        "time": time.time(),
        "requests": {"total": sum(by_endpoint.values()), "by_endpoint": by_endpoint, "by_status": by_status},
        "latency_seconds": {
            "predict": _histogram(samples, "braintumor_http_request_duration_seconds",
                                  lambda labels: labels.get("endpoint") in PREDICT_ENDPOINTS
                                  and labels.get("code") == ANSWERED),
            "all": _histogram(samples, "braintumor_http_request_duration_seconds"),
        },
        "predictions": {"total": sum(by_class.values()), "by_class": by_class},
        "confidence": {**confidence, "mean": confidence["sum"] / confidence["count"] if confidence["count"] else None},
        "ood": {"refusals": refused, "turned": turned, "images": images, "rate": refused / images if images else None},
        "review": {"flagged": flagged, "classified": classified, "rate": flagged / classified if classified else None},
        "errors": {k: v for k, v in _by(samples, "braintumor_errors_total", "kind").items() if v},
        "model": info[0] if info else {},
        "workers": _total(samples, "braintumor_workers"),
    }
