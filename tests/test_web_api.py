"""The JSON API: every route, every bad input (a 4xx JSON, never a 500), and the jsonl contract."""

from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image
from test_image_refusals import _png_header_only

from braintumor.predict_cli import records
from braintumor.web import create_app
from braintumor.wording import NOT_AN_INPUT, SEND_SMALLER

KEYS = {"path", "label", "confidence", "probabilities", "ood", "ood_score", "review"}


@pytest.fixture(scope="module")
def app(tiny_classifier):
    return create_app(classifier=tiny_classifier, max_upload_mb=4, max_files=5)


@pytest.fixture()
def client(app):
    return app.test_client()


def post(client, files, field="file", query=""):
    """files: [(name, bytes)]"""
    data = {field: [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/api/v1/predict{query}", data=data, content_type="multipart/form-data")


def test_predict_returns_the_predict_cli_record(client, test_images, tiny_classifier):
    path = test_images["meningioma"][0]
    r = post(client, [("scan one.jpg", path.read_bytes())])
    assert r.status_code == 200 and r.mimetype == "application/json"
    (rec,) = r.get_json()["results"]
    assert set(rec) == KEYS and rec["path"] == "scan one.jpg"
    assert set(r.get_json()) == {"results"}  # "series" comes with multi-slice volumes only
    (cli,) = records(tiny_classifier, [str(path)])
    assert {**cli, "path": "scan one.jpg"} == rec  # the same record as `braintumor predict --format jsonl`


def test_several_files_keep_their_order_and_errors_are_per_file(client, test_images):
    good = test_images["glioma"][0].read_bytes()
    r = post(client, [("a.jpg", good), ("text.jpg", b"I am text named .jpg"), ("c.png", encode(synthetic_head()))])
    assert r.status_code == 200
    res = r.get_json()["results"]
    assert [x["path"] for x in res] == ["a.jpg", "text.jpg", "c.png"]
    assert set(res[0]) == KEYS and set(res[2]) == KEYS
    assert res[1] == {"path": "text.jpg", "error": NOT_AN_INPUT}  # names the scans it reads too


def test_heatmap_adds_pngs_only_to_classified_files(client, test_images, tiny_classifier):
    r = post(client, [("a.jpg", test_images["pituitary"][0].read_bytes()), ("b.jpg", b"")], query="?heatmap=1")
    assert r.status_code == 200
    good, bad = r.get_json()["results"]
    assert set(good) == KEYS | {"heatmap_png_base64", "image_png_base64"} and set(bad) == {"path", "error"}
    size = tiny_classifier.image_size
    heat = Image.open(io.BytesIO(base64.b64decode(good["heatmap_png_base64"])))
    base = Image.open(io.BytesIO(base64.b64decode(good["image_png_base64"])))
    assert (heat.format, heat.mode, heat.size) == ("PNG", "RGB", (size, size))
    assert (base.mode, base.size) == ("L", (size, size))
    # The prediction is the same with and without the heat map.
    plain = post(client, [("a.jpg", test_images["pituitary"][0].read_bytes())]).get_json()["results"][0]
    assert {k: good[k] for k in KEYS} == plain


@pytest.mark.parametrize("query", ["?heatmap=abc", "?heatmap=1%00", "?heatmap=1&heatmap=0",
                                   "?heatmap", "?heatmap="])  # a bare ?heatmap, meant as "on", was off
def test_a_heatmap_value_it_does_not_know_is_a_400_not_silently_off(client, test_images, query):
    r = post(client, [("a.jpg", test_images["pituitary"][0].read_bytes())], query=query)
    assert r.status_code == 400 and r.get_json() == {"error": "?heatmap takes 1 or 0 (true/false, yes/no, on/off), "
                                                              "once"}
    for ok, maps in (("?heatmap=YES", True), ("?heatmap=on", True), ("?heatmap=off", False),
                     ("?heatmap=1&heatmap=true", True)):
        r = post(client, [("a.jpg", test_images["pituitary"][0].read_bytes())], query=ok)
        assert r.status_code == 200 and ("heatmap_png_base64" in r.get_json()["results"][0]) == maps, ok


@pytest.mark.parametrize(("query", "named"), [
    ("?heatmaps=1", "?heatmaps is not a parameter"), ("?filename=scan.jpg&heatmap=1", "?filename is not a parameter"),
    ("?heat_map=1&a=2&b&c", "?a, ?b, ?c and 1 more are not parameters"),
    ("?" + "x" * 100, f"?{'x' * 40}... is not a parameter")])
def test_a_query_parameter_it_does_not_take_is_a_400_not_ignored(client, test_images, query, named):
    """?heatmaps=1 (a typo) gave no heat maps and no word, as ?heatmap=ture did; ?filename= (no such parameter: a raw
    body is named by Content-Disposition) named nothing. Each is a 400 naming the parameter, before the body is read."""
    r = post(client, [("a.jpg", test_images["pituitary"][0].read_bytes())], query=query)
    assert r.status_code == 400 and r.get_json() == {"error": f"{named} of this route: it takes ?heatmap=1 or 0 only "
                                                              "(a file sent as the whole body is named by its "
                                                              "Content-Disposition header, not in the URL)"}
    for ok in ("?heatmap=1&", "?&&", "?heatmap=0"):  # empty pairs are no parameter
        assert post(client, [("a.jpg", test_images["pituitary"][0].read_bytes())], query=ok).status_code == 200, ok


@pytest.mark.parametrize("path", ["/api/v1/model", "/api/v1/openapi.json", "/api/v1/model/"])
def test_the_get_routes_of_the_api_refuse_a_query_parameter_as_predict_does(client, path):
    """``GET /api/v1/model?x=1`` answered as if ``x`` were not there, where predict refuses a parameter it does not
    take: both say which, with a 400. An empty query is none; /healthz, polled by load balancers, ignores one."""
    r = client.get(f"{path}?x=1&heatmap=1")
    assert r.status_code == 400 and r.get_json() == {"error": "?heatmap, ?x are not parameters of this route: it "
                                                              "takes none"}
    assert client.get(f"{path}?").status_code == 200
    assert client.get("/healthz?x=1").status_code == 200


#: What a Mac leaves beside scan.dcm as ._scan.dcm: 4 KB of resource fork, "not a recognised image" until 2026-12-07.
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\0" * 4072


def _truncated_jpeg() -> bytes:
    data = encode(synthetic_head(), "JPEG")
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jpg", b"", "empty"),
        ("truncated.jpg", _truncated_jpeg(), "image file is truncated: it ends before its pixels do"),
        ("notes.jpg", b"hello, I am a text file named scan.jpg\n", "not a recognised image"),
        ("huge.png", _png_header_only(50_000, 50_000),
         "50000x50000 pixels; the limit is 40,000,000 pixels: downscale it ("),
        ("big.png", _png_header_only(7_000, 7_000), "7000x7000 pixels; the limit is 40,000,000 pixels"),
        ("anim.gif", b"GIF89a" + b"\0" * 64, "not a recognised image"),
        ("._x.jpg", APPLE_DOUBLE, "a macOS metadata file (AppleDouble '._' file), not the scan"),
        ("._scan.dcm", APPLE_DOUBLE, "a macOS metadata file (AppleDouble '._' file), not the scan"),
    ],
    ids=["empty", "truncated-jpeg", "text-named-jpg", "huge-png-bomb", "png-over-pixel-cap", "gif",
         "appledouble-jpg", "appledouble-dcm"],
)
def test_a_single_bad_file_is_a_400_with_the_reason(client, name, content, message):
    r = post(client, [(name, content)])
    assert r.status_code == 400 and r.mimetype == "application/json"
    (rec,) = r.get_json()["results"]
    assert rec["path"] == name and message in rec["error"] and set(rec) == {"path", "error"}


def test_all_files_bad_is_a_400_with_each_reason(client):
    r = post(client, [("a.jpg", b""), ("b.jpg", b"text")])
    assert r.status_code == 400 and [x["path"] for x in r.get_json()["results"]] == ["a.jpg", "b.jpg"]


def test_file_type_comes_from_the_content_not_the_name(client):
    png_named_jpg = encode(synthetic_head(), "PNG")
    r = post(client, [("photo.jpg", png_named_jpg), ("noext", encode(synthetic_head(), "JPEG"))])
    assert r.status_code == 200 and all("label" in x for x in r.get_json()["results"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": {"image": (io.BytesIO(b"x"), "a.jpg")}, "content_type": "multipart/form-data"}, "field 'file'"),
        ({"data": {"file": "just text, no file"}, "content_type": "multipart/form-data"}, "holds text"),
        ({"data": {}, "content_type": "multipart/form-data"}, "no file uploaded"),
        ({"data": {"file": (io.BytesIO(b""), "")}, "content_type": "multipart/form-data"}, "no file uploaded"),
        ({"data": b"\xff\xd8\xff"}, "multipart/form-data"),  # no Content-Type at all
    ],
    ids=["wrong-field", "text-field", "no-parts", "empty-form-part", "no-type"],
)
def test_malformed_requests_are_400_json(client, kwargs, message):
    r = client.post("/api/v1/predict", **kwargs)
    assert r.status_code == 400 and message in r.get_json()["error"]


@pytest.mark.parametrize("route", ["/api/v1/predict", "/"])
@pytest.mark.parametrize("kwargs", [{"data": b"\xff\xd8\xff", "content_type": "text/plain"},
                                    {"json": {"file": "aGVsbG8="}}], ids=["text-body", "json-body"])
def test_a_body_of_a_type_it_does_not_take_is_415(client, kwargs, route):
    """A text or JSON body was a 400 (a malformed request) where HTTP has 415 (a type the server does not take)."""
    r = client.post(route, **kwargs)
    assert r.status_code == 415
    said = r.get_json()["error"] if route.startswith("/api/") else r.get_data(as_text=True)
    assert "multipart/form-data" in said and "application/dicom, application/zip or application/gzip" in said


def test_one_file_can_be_the_whole_body(client, test_images):
    """``curl --data-binary @scan.jpg -H 'Content-Type: image/jpeg'``: the same answer as the multipart upload."""
    data = test_images["meningioma"][0].read_bytes()
    multipart = post(client, [("scan.jpg", data)], query="?heatmap=1").get_json()
    named = {"Content-Disposition": 'attachment; filename="scan.jpg"'}  # a name, but never in the logged URL
    for ctype in ("image/jpeg", "image/png", "application/octet-stream",  # the type is sniffed, not trusted
                  "application/x-zip-compressed"):  # what Windows calls any .zip: was a 400
        r = client.post("/api/v1/predict?heatmap=1", data=data, content_type=ctype, headers=named)
        assert r.status_code == 200 and r.get_json() == multipart, ctype
    r = client.post("/api/v1/predict?name=SMITH_JOHN.jpg", data=data, content_type="image/jpeg")  # URLs are logged
    assert r.status_code == 400 and r.get_json()["error"].startswith("?name is not a parameter")  # the name, not SMITH
    r = client.post("/api/v1/predict", data=b"not an image", content_type="image/jpeg",
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''..%2F..%2Fetc%2Fp%C3%A4sswd"})
    assert r.status_code == 400 and r.get_json()["results"] == [
        {"path": "pässwd", "error": NOT_AN_INPUT}]
    r = client.post("/api/v1/predict", data=b"not an image", content_type="image/jpeg",  # a newline, a bidi override
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''a%0Ab%E2%80%AEgpj%00.exe"})
    assert r.get_json()["results"][0]["path"] == "a\nb\u202egpj_.exe"  # as sent (as a zip member's), but for NUL
    r = client.post("/api/v1/predict", data=b"", content_type="image/png")
    assert r.status_code == 400 and "the request body is empty" in r.get_json()["error"]
    r = client.post("/api/v1/predict", data=b"0" * (5 * 1024 * 1024), content_type="application/octet-stream")
    assert r.status_code == 413


def test_too_many_files(client):
    files = [(f"{i}.png", encode(synthetic_head(60))) for i in range(6)]
    r = post(client, files)
    assert r.status_code == 400 and r.get_json() == {"error": "too many files: 6 (the limit is 5 per request)"}


def test_more_parts_than_werkzeug_parses_are_too_many_files_not_too_large(client):
    """Werkzeug answers 413 past its part limit (here 100); the 9 kB request was told 'upload too large'."""
    r = post(client, [(f"{i}.png", b"x") for i in range(129)])
    assert r.status_code == 400 and r.get_json()["error"].startswith("too many files or form fields in one request "
                                                                     "(the limit is 5 files), or a form field over ")


def test_a_chunked_body_over_the_limit_is_413_not_cut_and_classified(client, test_images):
    """Without Content-Length Werkzeug reads up to the limit and stops without a word: a JPEG with 5 MB behind it
    was classified from its first 4 MB."""
    data = test_images["glioma"][0].read_bytes()
    limit = 4 * 1024 * 1024

    def chunked(body: bytes):
        return client.post("/api/v1/predict", input_stream=io.BytesIO(body), content_type="image/jpeg",
                           headers={"Transfer-Encoding": "chunked"}, environ_base={"wsgi.input_terminated": True})

    assert chunked(data + bytes(5 * 1024 * 1024)).status_code == 413
    assert chunked(data + bytes(limit - len(data) + 1)).status_code == 413
    r = chunked(data + bytes(limit - len(data)))  # at the limit: read whole
    assert r.status_code == 200 and r.get_json() == post(client, [("upload-1", data)]).get_json()


def test_a_body_shorter_than_its_content_length_is_said_to_be_cut_short(client, test_images):
    """gunicorn hands the app a body that ends (the client closed its side, a streaming proxy's client went away)
    before its Content-Length as if whole: its first two thirds of a JPEG were read and blamed on the file ("image file
    is truncated ... cut short in a copy or a download?"), and a whole JPEG under a Content-Length too large for it
    was classified. The request is what was cut short: a 400 that says so (RFC 9112: an incomplete message)."""
    data = test_images["glioma"][0].read_bytes()

    def sent(body: bytes, length: int):  # as gunicorn hands it over: a stream the app reads to its end
        return client.post("/api/v1/predict", input_stream=io.BytesIO(body), content_type="image/jpeg",
                           environ_overrides={"CONTENT_LENGTH": str(length), "wsgi.input_terminated": True})

    for body in (data[: len(data) * 2 // 3], data, b""):
        r = sent(body, len(data) + 10)
        assert r.status_code == 400 and r.get_json() == {"error": (
            f"the request body ended after {len(body):,} of the {len(data) + 10:,} bytes its Content-Length "
            "announced: the upload was cut short (the connection closed early); send the file again")}
    r = sent(data, len(data))  # whole: classified
    assert r.status_code == 200 and r.get_json() == post(client, [("upload-1", data)]).get_json()


def test_a_request_over_the_size_limit_is_413_json(client):
    big = np.random.default_rng(0).integers(0, 255, (1400, 1400), dtype=np.uint8)  # ~2 MB PNG, x3 > 4 MB
    r = post(client, [(f"{i}.png", encode(big)) for i in range(3)])
    assert r.status_code == 413
    assert r.get_json() == {"error": "upload too large: the limit is 4 MiB per request (all files together): send "
                                     f"fewer files at a time, {SEND_SMALLER}"}  # what to do, not the limit only
    small = create_app(classifier=client.application.extensions["braintumor"].classifier, max_upload_mb=0.05)
    r = small.test_client().post("/api/v1/predict", data=bytes(60_000), content_type="application/octet-stream")
    assert r.status_code == 413 and "the limit is 0.05 MiB" in r.get_json()["error"]  # said 0.0499992
    assert "0.05 MiB at a time" in small.test_client().get("/").get_data(as_text=True)
    big = create_app(classifier=client.application.extensions["braintumor"].classifier, max_upload_mb=1024)
    assert "1024 MiB at a time" in big.test_client().get("/").get_data(as_text=True)  # was "1.02e+03 MB"


def test_model_card_health_and_unknown_routes(client, tiny_classifier):
    card = client.get("/api/v1/model").get_json()
    assert card["classes"] == list(tiny_classifier.classes) and card["heatmap"] is True
    assert "head" not in card and card["limits"]["max_files"] == 5
    assert card["limits"]["max_request_bytes"] == 4 * 1024 * 1024
    assert "not a medical device" in card["disclaimer"].lower()
    assert client.get("/healthz").get_json() == {"status": "ok", "model": tiny_classifier.metadata["name"],
                                                 "model_version": tiny_classifier.metadata["model_version"],
                                                 "int8": False, "model_file": tiny_classifier.path.name}
    r = client.get("/api/v1/predict")
    assert r.status_code == 405 and r.get_json() == {"error": "method GET not allowed here"}
    assert set(r.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}  # HTTP requires it; the JSON 405 dropped it
    r = client.get("/api/v1/nothing")
    assert r.status_code == 404 and r.get_json() == {"error": "not found"}


@pytest.mark.parametrize(("method", "path", "location"), [
    ("GET", "/api//v1/model", "/api/v1/model"),
    ("POST", "/api/v1//predict?heatmap=1", "/api/v1/predict?heatmap=1"),
])
def test_a_redirect_under_api_answers_json(client, method, path, location):
    """Werkzeug's redirect of repeated slashes (``/api//v1/model``) had its HTML "Redirecting..." page as the body,
    where every other answer under /api/ is JSON: still the 308 to the route (DEPLOY.md), its body the API's."""
    r = client.open(path, method=method)
    assert r.status_code == 308 and r.headers["Location"] == location, r.headers
    assert r.mimetype == "application/json" and r.get_json() == {
        "error": f"the route is at {location}: send the request there (a 308 keeps its method and body)"}
    page = client.get("//", headers={"Accept": "text/html"})  # the pages' redirect stays a browser's
    assert page.status_code == 308 and page.mimetype == "text/html" and page.headers["Location"] == "/"


def test_healthz_says_whether_it_serves_the_int8_copy_and_which_file(tiny_classifier):
    """Both shipped files answered {"model": "braintumor-tumornet-s", "model_version": "1.0.0"}: servers of each
    behind one balancer could not be told apart by their health check. The file's base name, never its folder."""
    from braintumor.model_files import default_model_path
    from braintumor.predictor import Classifier

    float_file = default_model_path()
    int8_file = float_file.with_name("braintumor-tumornet-s-int8.onnx")
    if not (float_file.is_file() and int8_file.is_file()):
        pytest.skip(f"no shipped float and int8 models beside {float_file}")
    for path, int8 in ((float_file, False), (int8_file, True)):
        clf = Classifier.load(path.resolve(), threads=1)  # a full path: its folder is not said
        health = create_app(classifier=clf).test_client().get("/healthz").get_json()
        assert health["int8"] is int8 and health["model_file"] == path.name, health
        assert health["model"] == clf.metadata["name"] and str(path.parent) not in str(health)
    # a Classifier built in memory (the Python API) has no file: null, not a made-up name
    bare = Classifier(tiny_classifier.session, tiny_classifier.metadata)
    assert create_app(classifier=bare).test_client().get("/healthz").get_json()["model_file"] is None


def test_the_model_card_gives_the_detectors_settings_not_its_fitted_arrays():
    from braintumor.model_files import default_model_path
    from braintumor.predictor import Classifier

    if not default_model_path().exists():
        pytest.skip("no shipped model")
    r = create_app(classifier=Classifier.load(threads=1)).test_client().get("/api/v1/model")
    ood = r.get_json()["ood"]  # 270 kB of base64 (means, whitening matrix) were in every card
    assert ood["threshold"] > 0 and "whiten" not in ood and "means" not in ood and len(r.data) < 20_000


def test_the_model_card_names_no_folder_of_the_machine_that_made_the_model(tiny_classifier):
    """The shipped card said where the model was evaluated (``metrics.data``: ../shared/datasets/brain-tumor-mri/
    Testing) to any client, and a distilled model's said its teacher's path (``training.config.teacher``); a path can
    name a user, a site or a study. The card leaves them out, the model's metadata itself is left whole, and what
    sits beside them stays."""
    import copy

    clf = copy.copy(tiny_classifier)
    clf.metadata = {**tiny_classifier.metadata,
                    "metrics": {"accuracy": 0.5, "n": 4, "data": "/home/jdoe/st-mary/patients/Testing"},
                    "training": {"best_epoch": 3, "config": {"seed": 1, "teacher": "/home/jdoe/runs/big/model.onnx"}}}
    before = copy.deepcopy(clf.metadata)
    r = create_app(classifier=clf, max_upload_mb=4).test_client().get("/api/v1/model")
    card = r.get_json()
    assert "jdoe" not in r.get_data(as_text=True)
    assert card["metrics"] == {"accuracy": 0.5, "n": 4}
    assert card["training"] == {"best_epoch": 3, "config": {"seed": 1}}
    assert clf.metadata == before and "head" not in card and card["limits"]["max_files"] > 0


def test_an_unexpected_failure_is_a_json_500_without_traceback(app, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr("braintumor.web.api.classify_entries", boom)
    r = post(app.test_client(), [("a.png", encode(synthetic_head()))])
    assert r.status_code == 500 and r.get_json() == {"error": "internal error: the request could not be processed"}


def test_concurrent_requests_give_the_sequential_answers(app, test_images):
    payloads = [(f"{c}-{i}.jpg", p.read_bytes()) for c, paths in test_images.items() for i, p in enumerate(paths)]
    expected = {name: post(app.test_client(), [(name, data)]).get_json()["results"][0] for name, data in payloads}

    def worker(k: int) -> list[dict]:
        client = app.test_client()
        out = []
        for j in range(3):
            name, data = payloads[(k + 5 * j) % len(payloads)]
            r = post(client, [(name, data)], query="?heatmap=1" if j == 1 else "")
            assert r.status_code == 200
            rec = r.get_json()["results"][0]
            out.append({key: rec[key] for key in KEYS})
        return out

    with ThreadPoolExecutor(8) as pool:
        got = [rec for recs in pool.map(worker, range(8)) for rec in recs]
    assert len(got) == 24 and all(rec == expected[rec["path"]] for rec in got)


def test_options_and_a_wrong_method_on_metrics_answer_without_html(client):
    """OPTIONS answered 200 with an empty body labelled text/html, and POST /metrics (a scraper's route) got the
    7 kB HTML page as its 405."""
    for path in ("/api/v1/predict", "/", "/metrics"):
        r = client.options(path)
        assert (r.status_code, r.data, r.headers.get("Content-Type")) == (204, b"", None), path
        assert "OPTIONS" in r.headers["Allow"] and r.headers["X-Content-Type-Options"] == "nosniff"
    r = client.post("/metrics")
    assert r.status_code == 405 and r.get_json() == {"error": "method POST not allowed here"}
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("accept", ["*/*", "application/json", "text/html"])
def test_options_asterisk_is_answered_as_options_on_a_route(client, accept):
    """``OPTIONS *`` (the server's own options, RFC 9110 9.3.7) matched no route: the 404 page, HTML to a JSON client
    too. It is the 204 of an OPTIONS on a route, its Allow every method a route takes; ``/*`` is a path (404)."""
    r = client.open("*", method="OPTIONS", headers={"Accept": accept})
    assert (r.status_code, r.data, r.headers.get("Content-Type")) == (204, b"", None)
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["X-Request-ID"]
    assert client.options("/*").status_code == 404
    assert client.open("*", method="OPTIONS", headers={"Host": "evil.example"}).status_code == 204  # none refused
    assert create_app(classifier=client.application.extensions["braintumor"].classifier,
                      allowed_hosts=["x.example"]).test_client().open(
        "*", method="OPTIONS", headers={"Host": "evil.example"}).status_code == 400  # a Host not answered: as before


def test_a_preflight_from_another_origin_is_given_no_cors_headers(client):
    """docs/WEB.md: the API is same-origin only; a CORS header added one day (flask-cors is often at hand) is a
    decision to make in the docs too."""
    r = client.options("/api/v1/predict", headers={"Origin": "https://app.example", "Access-Control-Request-Method":
                                                   "POST"})
    assert r.status_code == 204 and not any(k.lower().startswith("access-control-") for k, _ in r.headers.items())
    assert client.get("/healthz").headers["Cross-Origin-Resource-Policy"] == "same-origin"
