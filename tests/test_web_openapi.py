"""The OpenAPI document is valid, and each documented response schema matches a real response."""

from __future__ import annotations

import io
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from conftest import encode
from openapi_spec_validator import validate
from test_serve_slow_clients import StallingInput

from braintumor.web import create_app


@pytest.fixture(scope="module")
def client(tiny_classifier):
    return create_app(classifier=tiny_classifier, max_upload_mb=1, max_files=3).test_client()


@pytest.fixture(scope="module")
def doc(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.get_json()


def _files(*items):
    return {"data": {"file": [(io.BytesIO(c), n) for n, c in items]}, "content_type": "multipart/form-data"}


def _requests(good: bytes) -> dict[tuple[str, str, str], list[dict]]:
    """A real request for every documented (path, method, status), several where the schema has branches."""
    big = encode(np.random.default_rng(1).integers(0, 255, (1200, 1200), dtype=np.uint8))  # > 1 MB
    return {
        ("/api/v1/predict", "post", "200"): [_files(("a.jpg", good)), _files(("a.jpg", good), ("b.txt", b"no")),
                                             {**_files(("a.jpg", good)), "query_string": {"heatmap": "1"}}],
        ("/api/v1/predict", "post", "400"): [_files(("b.jpg", b"")), _files(("b.jpg", b"x"), ("c.jpg", b"")),
                                             {"data": {}, "content_type": "multipart/form-data"},
                                             _files(*[(f"{i}.png", good) for i in range(4)])],
        ("/api/v1/predict", "post", "403"): [{**_files(("a.jpg", good)), "headers": headers} for headers in (
            {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
            {"Origin": "null", "Host": "10.0.0.5:5000"})],  # (a loopback Host is not compared with Origin)
        ("/api/v1/predict", "post", "408"): [{"content_type": "image/jpeg", "environ_overrides": {
            "wsgi.input": StallingInput(), "CONTENT_LENGTH": "9000"}}],
        ("/api/v1/predict", "post", "413"): [_files(("big.png", big))],
        ("/api/v1/predict", "post", "415"): [{"data": b"x", "content_type": "text/plain"}, {"json": {"file": "x"}}],
        ("/api/v1/predict", "post", "501"): [{"data": b"x", "content_type": "image/jpeg",
                                              "headers": {"Transfer-Encoding": "gzip, chunked"}}],
        ("/api/v1/model", "get", "200"): [{}],
        ("/api/v1/model", "get", "400"): [{"query_string": {"x": "1"}}],
        ("/api/v1/openapi.json", "get", "200"): [{}],
        ("/api/v1/openapi.json", "get", "400"): [{"query_string": {"_": "1"}}],
        ("/healthz", "get", "200"): [{}],
    }


def test_document_is_valid_openapi(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.1")


def test_every_documented_response_matches_real_responses(client, doc, test_images):
    cases = _requests(test_images["glioma"][0].read_bytes())
    # "default": a 500 (a bug), which test_web_openapi_walk.py makes on every route; predict's 503 needs a model whose
    # scores are not finite: test_model_scores_per_file.py makes one and checks it against this document
    documented = {(p, m, s) for p, ops in doc["paths"].items() for m, op in ops.items() for s in op["responses"]
                  if s != "default" and (p, m, s) != ("/api/v1/predict", "post", "503")}
    assert documented == set(cases), "each documented response needs a real request here, and vice versa"
    for (path, method, status), requests in cases.items():
        schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
        schema = {**schema, "components": doc["components"]}  # so "#/components/..." references resolve
        for kwargs in requests:
            r = getattr(client, method)(path, **kwargs)
            assert str(r.status_code) == status, (path, status, r.get_json())
            jsonschema.validate(r.get_json(), schema, cls=jsonschema.Draft202012Validator)


def test_schemas_reject_what_the_api_never_sends(doc):
    schema = {"$ref": "#/components/schemas/PredictResponse", "components": doc["components"]}
    record = {"path": "a", "label": "glioma", "confidence": 0.5,
              "probabilities": {"glioma": 0.5, "meningioma": 0.2, "notumor": 0.2, "pituitary": 0.1}}
    jsonschema.validate({"results": [record]}, schema, cls=jsonschema.Draft202012Validator)
    for bad in ({**record, "label": "cat"}, {**record, "extra": 1}, {"path": "a"}, {"error": "x"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"results": [bad]}, schema, cls=jsonschema.Draft202012Validator)


def test_document_names_this_models_classes(doc, tiny_classifier):
    label = doc["components"]["schemas"]["Prediction"]["properties"]["label"]
    assert label["enum"] == [*tiny_classifier.classes, None]  # null: label withheld (ood)


def test_the_heatmap_parameter_says_which_records_carry_which_image(doc, test_images):
    """The document (and docs/WEB.md) said ?heatmap=1 added both images "to each classified file"; a refused file gets
    the crop the model saw (image_png_base64) and no heat map: each description says which record carries which.
    The shipped model, which refuses (the tiny one is exported without the refusal check)."""
    from dicom_factory import make_dicom

    from braintumor.image_io import read_image
    from braintumor.model_files import default_model_path
    from braintumor.predictor import Classifier

    if not default_model_path().is_file():
        pytest.skip("needs the shipped model's refusals")
    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    ct = make_dicom(read_image(test_images["glioma"][0]), Modality="CT")
    r = client.post("/api/v1/predict?heatmap=1", **_files(("ct.dcm", ct), ("mr.jpg",
                                                                          test_images["glioma"][0].read_bytes())))
    refused, classified = r.get_json()["results"]
    assert refused["ood"] and "image_png_base64" in refused and "heatmap_png_base64" not in refused
    assert classified["label"] and {"image_png_base64", "heatmap_png_base64"} <= set(classified)
    [param] = [p for p in doc["paths"]["/api/v1/predict"]["post"]["parameters"] if p["name"] == "heatmap"]
    field = doc["components"]["schemas"]["Prediction"]["properties"]["image_png_base64"]["description"]
    assert "refused ones too" in param["description"] and "of a refused file too" in field


def test_the_heatmap_values_documented_are_those_the_server_takes(client, doc, test_images):
    """``?heatmap=TRUE`` (and Python's ``str(True)``) is taken, but the document's enum listed lower-case values only:
    a client validating against it refused what the server takes. Its pattern takes each value in any case, and
    nothing the server refuses."""
    import re

    [param] = [p for p in doc["paths"]["/api/v1/predict"]["post"]["parameters"] if p["name"] == "heatmap"]
    pattern = param["schema"]["pattern"]
    good = test_images["glioma"][0].read_bytes()
    for value in ("1", "0", "true", "TRUE", "True", "fAlSe", "YES", "no", "On", "OFF", "ture", "", "1 ", "2", "yes!"):
        r = client.post("/api/v1/predict", **_files(("a.jpg", good)), query_string={"heatmap": value})
        assert (re.search(pattern, value) is not None) == (r.status_code == 200), (value, r.get_json())
    assert "enum" not in param["schema"] and "in any case" in param["description"]


def test_a_request_whose_only_file_is_refused_is_answered_200_as_documented(doc, test_images):
    """A refusal is an answer: a request whose one file is refused (a CT slice) gets 200, and the document, the
    status table of docs/WEB.md and status_for say so (they said "200 when at least one file was classified")."""
    from dicom_factory import make_dicom

    from braintumor.image_io import read_image
    from braintumor.model_files import default_model_path
    from braintumor.predictor import Classifier

    if not default_model_path().is_file():
        pytest.skip("needs the shipped model's refusals")
    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    r = client.post("/api/v1/predict", **_files(("ct.dcm", make_dicom(read_image(test_images["glioma"][0]),
                                                                      Modality="CT"))))
    [refused] = r.get_json()["results"]
    assert r.status_code == 200 and refused["ood"] and refused["label"] is None
    said = doc["paths"]["/api/v1/predict"]["post"]["description"]
    assert "200 when at least one file was read and answered, classified or refused" in said
    web = (Path(__file__).parents[1] / "docs" / "WEB.md").read_text(encoding="utf-8")
    assert "| 200 | at least one file was read and answered: classified, or refused" in web


def test_the_400_of_results_is_for_files_none_of_which_could_be_read(doc):
    """The 400 response said "No file could be classified (`results`)" beside a description and a status table that
    say a request whose only file is refused (classified by none) is answered 200."""
    said = doc["paths"]["/api/v1/predict"]["post"]["responses"]["400"]["description"]
    assert said.startswith("No file could be read (`results`") and "classified" not in said, said


def test_the_document_says_a_host_not_answered_gets_400_on_every_path(tiny_classifier, doc):
    """serve answers only the names it is given (a loopback server, the Docker image: web/hosts.py); the document
    said nothing of the 400 every path then gives another name, as the Error schema says."""
    from braintumor.web.hosts import allowed_hosts

    assert "400 on every path for a request that names a host this server does not answer to" in \
        doc["info"]["description"]
    error = {**doc["components"]["schemas"]["Error"], "components": doc["components"]}
    client = create_app(classifier=tiny_classifier, allowed_hosts=allowed_hosts("127.0.0.1")).test_client()
    for path, operations in doc["paths"].items():
        for method in operations:
            r = getattr(client, method)(path, headers={"Host": "evil.example"})
            assert r.status_code == 400, (path, method)
            jsonschema.validate(r.get_json(), error, cls=jsonschema.Draft202012Validator)


def test_the_upload_limit_is_said_in_mib_as_it_is_counted(doc):
    """The limit is counted in MiB (2^20 bytes), as ``serve --max-upload-mb`` says; the document said "MB"."""
    said = doc["paths"]["/api/v1/predict"]["post"]["description"]
    assert "(at most 3 files, 1 MiB in all)" in said


def test_the_400s_and_415s_of_predict_are_said_as_the_server_answers_them(client, doc, test_images):
    """A body with no Content-Type is a 400 (docs/WEB.md), but the description said 415 for any body "neither multipart
    nor one of the types above", which it is; and it named no 400 for a ``?heatmap`` value it does not take."""
    op = doc["paths"]["/api/v1/predict"]["post"]
    said, said_415 = op["description"], op["responses"]["415"]["description"]
    r = client.post("/api/v1/predict", data=b"abc")  # no Content-Type
    assert r.status_code == 400 and "a body with no Content-Type" in said and "(a body with none: 400)" in said_415
    r = client.post("/api/v1/predict?heatmap=ture", **_files(("a.jpg", test_images["glioma"][0].read_bytes())))
    assert r.status_code == 400 and "a `heatmap` value it does not take" in said
    r = client.post("/api/v1/predict", data=b"abc", content_type="text/plain")
    assert r.status_code == 415 and "415 when the body's Content-Type is neither multipart" in said


def test_the_document_says_the_403_and_501_every_path_gives(client, doc):
    """A browser's cross-site POST is refused 403 on every path before routing (``POST /api/v1/model``: 403, not the
    405 the document promised for a method a path does not take), and a body in a transfer coding other than chunked
    is a 501 on every path (``GET /healthz`` too): the document named them for predict only."""
    said = doc["info"]["description"]
    assert "403 on every path for a method other than GET, HEAD and OPTIONS" in said
    assert "501 on every path for a body in a transfer coding other than chunked" in said
    error = {**doc["components"]["schemas"]["Error"], "components": doc["components"]}
    for path in [*doc["paths"], "/api/v1/nothing"]:
        r = client.post(path, headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403, path
        jsonschema.validate(r.get_json(), error, cls=jsonschema.Draft202012Validator)
        r = client.get(path, data=b"x", headers={"Transfer-Encoding": "gzip, chunked"})
        assert r.status_code == 501, path
        jsonschema.validate(r.get_json(), error, cls=jsonschema.Draft202012Validator)


#: The routes the app serves that the document leaves out, and why: it is the JSON API's, for programs.
NOT_IN_THE_DOCUMENT = {
    "/": "the web page and its form's post: HTML for people, not the JSON API",
    "/static/<path:filename>": "the page's scripts, styles and icons",
    "/dashboard": "the monitoring page: HTML for people",
    "/model": "the model card page: HTML for people (its facts are GET /api/v1/model's, which is in the document)",
    "/metrics": "monitoring, for the monitoring network only (docs/WEB.md: not in the document)",
    "/api/v1/stats": "monitoring, as /metrics (docs/WEB.md: not in the document)",
}
#: Methods the info description says once for every path rather than as operations of each: HEAD is its GET without
#: the body (RFC 9110 9.3.2: no answer of its own to describe), OPTIONS the 204 with Allow.
SAID_FOR_EVERY_PATH = {"HEAD": "Every path that answers GET also answers HEAD", "OPTIONS": "OPTIONS answers 204"}


def test_the_document_names_every_route_and_method_the_app_serves(client, doc):
    """HEAD, which every GET route answers, was in no operation and named by the description only among the methods a
    page of another site may send: every (route, method) the app serves is now an operation, said for every path
    (HEAD, OPTIONS), or left out here with the reason why."""
    rules = list(client.application.url_map.iter_rules())
    assert set(NOT_IN_THE_DOCUMENT) <= {rule.rule for rule in rules}, "a route left out that the app no longer has"
    served = {(rule.rule, method) for rule in rules for method in rule.methods
              if rule.rule not in NOT_IN_THE_DOCUMENT and method not in SAID_FOR_EVERY_PATH}
    assert served == {(path, method.upper()) for path, operations in doc["paths"].items() for method in operations}
    for words in SAID_FOR_EVERY_PATH.values():
        assert words in doc["info"]["description"]
    for path, operations in doc["paths"].items():
        head = client.head(path)
        if "get" in operations:  # its GET's status and headers, without the body
            get = client.get(path)
            assert (head.status_code, head.headers["Content-Type"]) == (get.status_code, get.headers["Content-Type"])
            assert head.get_data() == b""
        else:
            assert head.status_code == 405 and "HEAD" not in head.headers["Allow"]
