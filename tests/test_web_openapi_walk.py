"""Every kind of answer the JSON API gives, checked against the OpenAPI document it serves: each prediction shape
(images, refusals, DICOM series, NIfTI volumes, zips, heat maps), each error status, and the headers they carry.
test_web_openapi.py covers each documented status once with the tiny model; this walks the shipped model's
answers (its refusal and orientation checks add fields the tiny model never returns)."""

from __future__ import annotations

import io
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from conftest import encode
from dicom_factory import axial_volume, make_dataset, make_dicom, nifti_bytes, series, to_bytes, zip_bytes
from PIL import Image
from test_model_scores_per_file import nan_for  # noqa: F401  (the fixture: NaN scores for a chosen image)

from braintumor import __version__
from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.web import create_app

REPO = Path(__file__).resolve().parents[1]
PREDICT = "/api/v1/predict"
#: Response headers a client acts on (send it uncompressed, the methods taken, when to try again, where to go, what
#: to quote to the operator): one an answer carries must be among its response's declared headers, not only said in
#: its prose.
ACTED_ON = frozenset({"accept-encoding", "allow", "retry-after", "location", "www-authenticate", "x-request-id"})
pytestmark = pytest.mark.skipif(not default_model_path().is_file(), reason="needs the shipped model")


@pytest.fixture(scope="module")
def client():
    from braintumor.predictor import Classifier

    return create_app(classifier=Classifier.load(threads=1), max_upload_mb=2, max_files=6).test_client()


@pytest.fixture(scope="module")
def doc(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture(scope="module")
def gray(test_images) -> np.ndarray:
    return read_image(test_images["glioma"][0])


@pytest.fixture(scope="module")
def stack(test_images) -> list[np.ndarray]:
    paths = [p for c in ("glioma", "meningioma", "notumor", "pituitary") for p in test_images[c][:2]]
    return [np.asarray(Image.fromarray(read_image(p)).resize((128, 128)), dtype=np.uint8) for p in paths]


def _files(*items: tuple[str, bytes]) -> dict:
    return {"data": {"file": [(io.BytesIO(b), n) for n, b in items]}, "content_type": "multipart/form-data"}


def _validate(doc: dict, schema: dict, body) -> None:
    jsonschema.validate(body, {**schema, "components": doc["components"]}, cls=jsonschema.Draft202012Validator)


def _check(doc: dict, path: str, method: str, r) -> dict:
    """The answer's status is documented for the operation, and its type, body and caching are as documented."""
    responses = doc["paths"][path][method]["responses"]
    status = str(r.status_code)
    assert status in responses, f"{method.upper()} {path} answered an undocumented {status}: {r.get_data()[:200]!r}"
    (media, content), = responses[status]["content"].items()
    assert r.mimetype == media
    assert r.headers["Cache-Control"] == "no-store"  # results are about one patient's scan: never cached
    declared = responses[status].get("headers", {})
    for name, header in declared.items():
        if name in r.headers or header.get("required"):
            jsonschema.validate(r.headers.get(name), header["schema"])
    said = {name for name, _ in r.headers.items() if name.lower() in ACTED_ON} - set(declared)
    assert not said, f"{method.upper()} {path} {status} carries {said}, which its response does not declare"
    body = r.get_json()
    _validate(doc, content["schema"], body)
    return body


def test_every_kind_of_prediction_matches_the_schema(client, doc, test_images, gray, stack, data_root,
                                                      nan_for):  # noqa: F811
    from test_stripped import STRIPPED_EXAMPLES, _strip

    from braintumor.volume_io import read_volumes

    good = test_images["glioma"][0].read_bytes()
    turned = encode(np.ascontiguousarray(np.rot90(gray)))
    colour = encode(np.dstack([gray, np.zeros_like(gray), gray]))
    noise = encode(np.random.default_rng(0).integers(0, 255, (256, 256), dtype=np.uint8))
    ct = make_dataset(stack[0])
    ct.Modality = "CT"
    vol = nifti_bytes(axial_volume(stack))
    bare = _strip(data_root / "Training" / STRIPPED_EXAMPLES[1])[1]  # its answers carry a note (braintumor.stripped)
    marked = stack[0].copy()
    marked[70:80, 70:80] = 255  # a slice of its own, which the model fails on (the others' slices are stack's)
    failing = nifti_bytes(axial_volume([marked, stack[1]]))
    nan_for(read_volumes(failing, name="f.nii.gz")[0].slices[0])
    cases = {
        "one image": _files(("a.jpg", good)),
        "several": _files(*[(p.name, p.read_bytes()) for c in test_images for p in test_images[c][:1]]),
        "refusals": _files(("t.png", turned), ("c.png", colour), ("n.png", noise), ("s.png", encode(gray[:20, :20])),
                           ("ct.dcm", to_bytes(ct)), ("a.jpg", good)),
        "only turned": _files(("t.png", turned)),
        "dicom series": _files(("s.zip", zip_bytes(series(stack)))),
        "two series": _files(("two.zip", zip_bytes(series(stack[:3]) + [("B" + n, d) for n, d in series(stack[3:6])]))),
        "one slice and skipped files": _files(("j.zip", zip_bytes([("IM1", make_dicom(stack[0])), ("x.txt", b"hi")]))),
        "series and skipped files": _files(("k.zip", zip_bytes([*series(stack[:3]), ("x.txt", b"hi")]))),
        "multi-frame": _files(("mf.dcm", make_dicom(np.stack(stack[:3]), NumberOfFrames=3))),
        "nifti": _files(("h.nii.gz", vol)),
        "4-D nifti": _files(("v4.nii.gz", nifti_bytes(np.stack([axial_volume(stack[:3])] * 2, axis=-1)))),
        "blank slice": _files(("bl.nii.gz", nifti_bytes(axial_volume([np.zeros((128, 128), np.uint8), *stack[:3]])))),
        "nifti in a zip": _files(("nz.zip", zip_bytes([("a.nii.gz", nifti_bytes(axial_volume(stack[:3])))]))),
        "raw body": {"data": vol, "content_type": "application/gzip"},
        "model failed on a slice": _files(("f.nii.gz", failing)),
        "skull-stripped": _files(("bare.png", encode(bare)), ("bare.nii.gz", nifti_bytes(axial_volume([bare] * 3)))),
        "heat maps": {**_files(("a.jpg", good), ("t.png", turned), ("h.nii.gz", vol)),
                      "query_string": {"heatmap": "1"}},
    }
    seen: set[str] = set()
    for name, kwargs in cases.items():
        r = client.post(PREDICT, **kwargs)
        assert r.status_code == 200, (name, r.get_json())
        body = _check(doc, PREDICT, "post", r)
        seen |= {k for rec in body["results"] for k in rec} | {k for s in body.get("series", []) for k in s["summary"]}
        seen |= {f"{k}.{m}" for rec in body["results"] for k in ("dicom", "nifti") for m in rec.get(k, {})}
    schemas = doc["components"]["schemas"]
    documented = {*schemas["Prediction"]["properties"], *schemas["Series"]["properties"]["summary"]["properties"]}
    documented |= {f"{k}.{m}" for k in ("dicom", "nifti") for m in schemas["Prediction"]["properties"][k]["properties"]}
    # documented but never returned by these answers: only what needs a file this walk cannot make cheaply
    assert documented - seen <= {"nifti.plane", "nifti.x_mm", "nifti.y_mm", "dicom.image_position_derived"}


def test_every_error_answers_the_one_error_body(client, doc, test_images):
    """400, 404, 405, 413 and 415 from every route: one shape, ``{"error": sentence}``, as JSON, never cached."""
    good = test_images["glioma"][0].read_bytes()
    documented = [
        _files(("b.jpg", b"")),  # a 400 whose results say why
        {**_files(("a.jpg", good)), "query_string": {"heatmap": "ture"}},
        {"data": {"file": "text"}, "content_type": "multipart/form-data"},
        {"data": {"image": (io.BytesIO(good), "a.jpg")}, "content_type": "multipart/form-data"},
        _files(*[(f"{i}.jpg", good) for i in range(7)]),
        {"data": b"", "content_type": "image/jpeg"},
        {"data": b"abc"},  # no Content-Type
        _files(("big.bin", b"\0" * 3_000_000)),
        {"data": b"x", "content_type": "text/plain"},
        {"data": good, "content_type": "image/jpeg", "headers": {"Content-Encoding": "gzip"}},  # 415, Accept-Encoding
    ]
    for kwargs in documented:
        r = client.post(PREDICT, **kwargs)
        assert r.status_code in (400, 413, 415)
        _check(doc, PREDICT, "post", r)
    error = {"$ref": "#/components/schemas/Error"}
    for method, path, status in [("get", PREDICT, 405), ("put", PREDICT, 405), ("post", "/api/v1/model", 405),
                                 ("delete", "/api/v1/openapi.json", 405), ("post", "/healthz", 405),
                                 ("get", "/api/v1/nothing", 404), ("get", "/api/v2/predict", 404)]:
        r = getattr(client, method)(path)
        assert r.status_code == status and r.mimetype == "application/json" and r.headers["Cache-Control"] == "no-store"
        _validate(doc, error, r.get_json())
        assert status == 404 or method.upper() not in r.headers["Allow"]


def test_the_documents_version_is_the_packages(doc):
    tomllib = pytest.importorskip("tomllib", reason="Python >= 3.11 reads TOML")  # a module import: 3.10 collected none
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert doc["info"]["version"] == __version__ == project["version"]


def test_the_model_card_documents_every_field_it_returns(client, doc):
    """The card's schema named 12 of its 24 fields: ``ood`` (whose ``threshold`` its own description cites),
    ``package_version``, ``data_fingerprint``, ``training`` and the rest were returned undocumented."""
    card = _check(doc, "/api/v1/model", "get", client.get("/api/v1/model"))
    schema = doc["components"]["schemas"]["ModelCard"]
    assert set(card) - set(schema["properties"]) == set()
    assert set(card["ood"]) - set(schema["properties"]["ood"]["properties"]) == set()
    limits = schema["properties"]["limits"]
    assert set(limits["required"]) == set(limits["properties"]) == set(card["limits"])  # every limit, always
    with pytest.raises(jsonschema.ValidationError):  # a limit the document does not name is not in the contract
        _validate(doc, {"$ref": "#/components/schemas/ModelCard"}, {**card, "limits": {**card["limits"], "x": 1}})


def test_a_series_summary_schema_rejects_what_the_api_never_sends(client, doc, stack):
    """Each object of an answer is closed (additionalProperties false); most_suspicious's entries were not."""
    body = client.post(PREDICT, **_files(("h.nii.gz", nifti_bytes(axial_volume(stack))))).get_json()
    schema = {"$ref": "#/components/schemas/PredictResponse"}
    _validate(doc, schema, body)
    top = body["series"][0]["summary"]["most_suspicious"]
    top[0]["ood_score"] = 0.5
    with pytest.raises(jsonschema.ValidationError, match="ood_score"):
        _validate(doc, schema, body)


def test_every_operation_documents_its_other_errors(doc, monkeypatch):
    """A 500 (a bug) and the 404 and 405 of every route answer ``{"error": ...}``, as docs/WEB.md says: the document
    named none of them, so a client generated from it knew no body for them."""
    from braintumor.predictor import Classifier

    app = create_app(classifier=Classifier.load(threads=1))

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app, "view_functions", {k: boom for k in app.view_functions})
    client = app.test_client()
    for path, ops in doc["paths"].items():
        for method in ops:
            r = getattr(client, method)(path, data=b"x", content_type="image/jpeg")
            assert r.status_code == 500 and "secret" not in r.get_data(as_text=True)
            default = ops[method]["responses"].get("default")
            assert default is not None, f"{method.upper()} {path} documents no body for other errors"
            schema = default["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}
            _validate(doc, schema, r.get_json())
    assert "404" in doc["info"]["description"] and "405" in doc["info"]["description"]


def test_every_documented_response_promises_no_caching(doc):
    """Every answer carries ``Cache-Control: no-store`` (a proxy must not keep a patient's result): the document
    did not say so, and a client or proxy configured from it could not know."""
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                header = response.get("headers", {}).get("Cache-Control")
                assert header is not None, (path, method, status)
                assert header["schema"] == {"type": "string", "const": "no-store"}
