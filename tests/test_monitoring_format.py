"""``GET /metrics`` read strictly, as Prometheus reads it, after a mix of real requests (classified, refused as not
MRI, refused on their side, unreadable, 400, 413, 415, heat maps, a DICOM series), in one process and in gunicorn's
multiprocess mode (two workers' files, simulated in this process): valid text, every family documented, counters that
never go down, cumulative histograms, parts that add up, no file name anywhere, and the same numbers as the JSON.
tests/test_monitoring.py checks each count; tests/test_monitoring_server.py runs the real server."""

from __future__ import annotations

import io
import itertools
import math
import re

import numpy as np
import pytest
from conftest import REPO, encode
from PIL import Image
from prometheus_client import generate_latest, values
from prometheus_client.parser import text_string_to_metric_families

from braintumor.web import create_app

#: A file name that must never reach /metrics (patients' names end up in file names).
SECRET = "jane-doe-1961"
Samples = dict[tuple[str, tuple], float]


def exposition(text: str) -> tuple[dict, Samples]:
    """The text format 0.0.4, checked: one HELP and one TYPE per family, before its samples; each histogram's buckets
    cumulative, ending at +Inf, which equals its _count. Returns (families by name, samples by (name, labels))."""
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in helps, f"two HELP lines for {name}"
            helps[name] = line
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types and name in helps, f"TYPE of {name} twice or before its HELP"
            types[name] = kind
        elif line:
            assert not line.startswith("#"), line
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            assert any(name == f or name.startswith(f + "_") for f in types), f"sample before its TYPE: {line}"
    assert helps.keys() == types.keys()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples: Samples = {}
    for fam in families.values():
        assert fam.documentation.strip(), f"{fam.name} has no help text"
        for s in fam.samples:
            assert math.isfinite(s.value) and s.value >= 0, s
            samples[s.name, tuple(sorted(s.labels.items()))] = s.value
        if fam.type == "counter":
            assert {s.name for s in fam.samples} <= {fam.name + "_total"}, fam.name
        if fam.type == "histogram":
            series: dict[tuple, list] = {}
            for s in fam.samples:
                if s.name == fam.name + "_bucket":
                    key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                    series.setdefault(key, []).append((float(s.labels["le"]), s.value))
            for key, buckets in series.items():
                buckets.sort()
                assert buckets[-1][0] == math.inf, (fam.name, key)
                assert all(a[1] <= b[1] for a, b in itertools.pairwise(buckets)), (fam.name, key, buckets)
                assert buckets[-1][1] == samples[fam.name + "_count", key], (fam.name, key)
                assert (fam.name + "_sum", key) in samples
    return families, samples


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for (n, lab), v in samples.items() if n == name and labels.items() <= dict(lab).items())


def never_down(before: Samples, after: Samples) -> None:
    """Counters and histograms only grow (a series never disappears either)."""
    for (name, labels), v in before.items():
        if name.endswith(("_total", "_bucket", "_count", "_sum")):
            assert after.get((name, labels), -1) >= v, (name, labels, v, after.get((name, labels)))


def upload(client, files: list[tuple[str, bytes]], path: str = "/api/v1/predict"):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(path, data=data, content_type="multipart/form-data")


def mixed_requests(client, test_images) -> list[int]:
    """One of each kind of answer; returns the statuses, in order."""
    import dicom_factory

    path = test_images["glioma"][0]
    slice_ = np.asarray(Image.open(path).convert("L"))
    noise = (np.random.default_rng(0).random((200, 200, 3)) * 255).astype(np.uint8)
    series = [np.asarray(Image.open(p).convert("L").resize((96, 96))) for p in test_images["meningioma"][:3]]
    return [r.status_code for r in (
        upload(client, [(f"{SECRET}.jpg", path.read_bytes()), (f"{SECRET}-side.png", encode(np.rot90(slice_).copy())),
                        (f"{SECRET}-noise.png", encode(noise)), (f"{SECRET}.txt", b"notes")]),
        upload(client, [(f"{SECRET}.jpg", path.read_bytes())], "/api/v1/predict?heatmap=1"),
        upload(client, [(f"{SECRET}.zip", dicom_factory.zip_bytes(dicom_factory.series(series)))]),
        upload(client, [(f"{SECRET}.jpg", b"not an image")]),
        upload(client, [(f"{SECRET}.jpg", b"\xff" * (2 * 1024 * 1024))]),
        client.post("/api/v1/predict", data=b"a,b", content_type="text/csv"),
        upload(client, [(f"{SECRET}.jpg", path.read_bytes())], "/"),
        client.get(f"/{SECRET}"),
        client.get("/healthz"),
    )]


@pytest.fixture(scope="module")
def shipped():
    """The shipped model: calibrated, so it refuses what is not brain MRI and tells slices on their side."""
    from braintumor.predictor import Classifier

    return Classifier.load(threads=1)


def scrape(client) -> tuple[str, dict, Samples]:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    text = r.get_data(as_text=True)
    return (text, *exposition(text))


def check_after_mix(clients: list, test_images, classes: tuple[str, ...]) -> tuple[str, dict, Samples]:
    """The mix sent through each client in turn, a scrape after each request batch; returns the last scrape."""
    _, _, before = scrape(clients[0])
    statuses = []
    for client in clients:
        statuses += mixed_requests(client, test_images)
        for reader in clients:  # whichever worker answers the scrape
            text, families, now = scrape(reader)
            never_down(before, now)
            before = now
    assert statuses == [200, 200, 200, 400, 413, 415, 200, 404, 200] * len(clients)
    n = len(clients)
    m = before
    assert total(m, "braintumor_http_requests_total") == 9 * n
    assert total(m, "braintumor_http_requests_total", endpoint="api.predict") == 6 * n
    by_class = [total(m, "braintumor_predictions_total", label=c) for c in classes]
    # classified: 1 + 1 (heat map) + 3 slices + 1 (page), refused: noise and the slice on its side
    assert sum(by_class) == total(m, "braintumor_predictions_total") == 6 * n
    assert total(m, "braintumor_prediction_confidence_count") == sum(by_class)
    assert total(m, "braintumor_ood_refusals_total") == 2 * n
    assert total(m, "braintumor_turned_refusals_total") == n  # a part of the refusals
    assert total(m, "braintumor_review_flags_total") <= sum(by_class)
    kinds = {k: total(m, "braintumor_errors_total", kind=k) for k in ("invalid_image", "bad_request", "too_large",
                                                                         "client_error", "not_found")}
    assert kinds == {"invalid_image": 2 * n, "bad_request": n, "too_large": n, "client_error": n, "not_found": n}
    assert SECRET not in text and SECRET not in str(families)  # privacy: names, URLs and contents stay out
    return text, families, m


def check_stats(client, m: Samples) -> None:
    """The dashboard's JSON says what /metrics says."""
    s = client.get("/api/v1/stats").get_json()
    assert s["requests"]["total"] == total(m, "braintumor_http_requests_total")
    assert s["predictions"]["total"] == total(m, "braintumor_predictions_total")
    assert s["ood"]["refusals"] == total(m, "braintumor_ood_refusals_total")
    assert s["ood"]["turned"] == total(m, "braintumor_turned_refusals_total")
    assert s["ood"]["images"] == s["predictions"]["total"] + s["ood"]["refusals"]
    assert s["review"]["flagged"] == total(m, "braintumor_review_flags_total")
    assert s["confidence"]["count"] == total(m, "braintumor_prediction_confidence_count")
    assert s["latency_seconds"]["all"]["count"] == total(m, "braintumor_http_request_duration_seconds_count")
    assert s["latency_seconds"]["all"]["buckets"][-1] == ["+Inf", s["latency_seconds"]["all"]["count"]]
    assert s["errors"] == {k: v for (n, lab), v in m.items() if n == "braintumor_errors_total" and v
                           for k in [dict(lab)["kind"]]}
    assert s["workers"] == total(m, "braintumor_workers")


def documented(families: dict) -> None:
    """Every family /metrics serves has its row in docs/DEPLOY.md's table, under the name Prometheus stores."""
    doc = (REPO / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(braintumor_[a-z_]+)` \|", doc, flags=re.M))
    served = {f.name + ("_total" if f.type == "counter" else "") for f in families.values()}
    assert served <= rows, f"served but not in docs/DEPLOY.md: {sorted(served - rows)}"


def test_one_process_metrics_are_valid_documented_and_add_up(shipped, test_images):
    app = create_app(classifier=shipped, max_upload_mb=1, max_files=8)
    _, families, m = check_after_mix([app.test_client()], test_images, shipped.classes)
    documented(families)
    check_stats(app.test_client(), m)


def test_multiprocess_metrics_add_up_over_workers(shipped, test_images, tmp_path, monkeypatch):
    """gunicorn's workers as serve runs them (files named by slot, gunicorn_config.post_fork), two apps here: each
    scrape, from either, reads both workers' counts, and the text is as valid as in one process."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    apps = []
    for slot in (0, 1):
        monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue(lambda slot=slot: slot))
        apps.append(create_app(classifier=shipped, max_upload_mb=1, max_files=8))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("counter"))[:2] == ["counter_0.db",
                                                                                            "counter_1.db"]
    clients = [a.test_client() for a in apps]
    _, families, m = check_after_mix(clients, test_images, shipped.classes)
    documented(families)
    assert total(m, "braintumor_workers") == 2
    for client in clients:
        check_stats(client, m)
        assert client.get("/api/v1/stats").get_json()["multiprocess"] is True


def test_label_values_are_escaped(tiny_classifier, tmp_path, monkeypatch):
    """A model's name and version are free text (whatever its training run was called): quotes, backslashes and line
    breaks in them are escaped, in one process and across workers, and read back as they were."""
    from braintumor.predictor import Classifier

    odd = 'run "7" \\ a\nb'
    clf = Classifier(tiny_classifier.session, {**tiny_classifier.metadata, "name": odd, "model_version": "1\\2"})
    for multiprocess in (False, True):
        if multiprocess:
            monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
            monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue(lambda: 0))
        text = create_app(classifier=clf).test_client().get("/metrics").get_data(as_text=True)
        [line] = [x for x in text.splitlines() if x.startswith("braintumor_model_info{")]
        assert '\\"7\\"' in line and "\\n" in line and "\n" not in line
        _, m = exposition(text)
        [(_, labels)] = [k for k in m if k[0] == "braintumor_model_info"]
        assert dict(labels)["name"] == odd and dict(labels)["version"] == "1\\2"



def test_model_info_is_the_live_workers_model_only(tmp_path, monkeypatch):
    """A worker replaced by one that loaded another model (a file replaced, then SIGHUP or --max-requests, where serve
    holds no in-memory copy of it) left its model's series at 1 for good, files being named by slot: /metrics then
    gave two models, and /api/v1/stats's ``model`` (the dashboard's) the old one."""
    from types import SimpleNamespace

    from prometheus_client import CollectorRegistry, multiprocess

    from braintumor import gunicorn_config
    from braintumor.web.monitoring import Metrics
    from braintumor.web.stats import summarize

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for version in ("1.0.0", "2.0.0"):  # the worker of slot 0, then the one that takes its slot
        monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue(lambda: 0))
        Metrics.create({"name": "m", "model_version": version}, ("a",))
        if version == "1.0.0":
            gunicorn_config.child_exit(None, SimpleNamespace(metrics_slot=0, pid=1))
    reg = CollectorRegistry(auto_describe=False)
    multiprocess.MultiProcessCollector(reg, path=str(tmp_path))
    _, samples = exposition(generate_latest(reg).decode())
    served = [dict(labels)["version"] for (name, labels), v in samples.items() if name == "braintumor_model_info" and v]
    assert served == ["2.0.0"]
    assert summarize(reg, ["a"])["model"]["version"] == "2.0.0"
