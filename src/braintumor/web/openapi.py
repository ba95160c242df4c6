"""The OpenAPI 3.1 document of the JSON API (its schemas are checked against real responses in tests)."""

from __future__ import annotations

from .. import __version__
from .inference import FIELD, WebState


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _schemas(classes: list[str]) -> dict:
    probs = {"type": "object", "properties": {c: {"type": "number", "minimum": 0, "maximum": 1} for c in classes},
             "required": classes, "additionalProperties": False}
    b64 = {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"}
    return {
        "Prediction": {
            "type": "object",
            "description": "One classified file: the predict CLI's jsonl record, path = uploaded file name.",
            "properties": {
                "path": {"type": "string"},
                "label": {"type": ["string", "null"], "enum": [*classes, None],
                          "description": "null when ood is true (the label is withheld)"},
                "confidence": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "probabilities": probs,
                "ood": {"type": "boolean", "description": "true: this does not look like a brain MRI slice"},
                "ood_score": {"type": ["number", "null"], "description": "distance from the training MRI "
                              "slices, scaled so that values above 1 are refused"},
                "reason": {"type": "string", "description": "why the input was refused (only when ood)"},
                "heatmap_png_base64": {**b64, "description": "With ?heatmap=1 (if the model supports it): "
                                       "class-activation map of the predicted class over image_png_base64."},
                "image_png_base64": {**b64, "description": "With ?heatmap=1: the cropped grayscale image "
                                     "the model saw."},
            },
            "required": ["path", "label", "confidence", "probabilities"],
            "additionalProperties": False,
        },
        "FileError": {
            "type": "object",
            "description": "One file that could not be classified, with a user-safe reason.",
            "properties": {"path": {"type": "string"}, "error": {"type": "string"}},
            "required": ["path", "error"],
            "additionalProperties": False,
        },
        "PredictResponse": {
            "type": "object",
            "properties": {"results": {"type": "array", "items": {"oneOf": [_ref("Prediction"), _ref("FileError")]}}},
            "required": ["results"],
            "additionalProperties": False,
        },
        "Error": {
            "type": "object",
            "properties": {"error": {"type": "string"}},
            "required": ["error"],
            "additionalProperties": False,
        },
        "Health": {
            "type": "object",
            "properties": {"status": {"const": "ok"}, "model": {"type": "string"}, "model_version": {"type": "string"}},
            "required": ["status", "model", "model_version"],
            "additionalProperties": False,
        },
        "ModelCard": {
            "type": "object",
            "description": "The model's own metadata (classes, preprocessing, metrics, provenance) and this "
                           "server's limits. The linear head's weights are left out.",
            "properties": {
                "name": {"type": "string"},
                "model_version": {"type": "string"},
                "classes": {"type": "array", "items": {"type": "string"}},
                "display_names": {"type": "object", "additionalProperties": {"type": "string"}},
                "preprocess": {"type": "object"},
                "temperature": {"type": "number"},
                "metrics": {"type": "object"},
                "heatmap": {"type": "boolean", "description": "Whether ?heatmap=1 can return heat maps."},
                "limits": {
                    "type": "object",
                    "properties": {"max_request_bytes": {"type": "integer"}, "max_files": {"type": "integer"},
                                   "max_pixels": {"type": "integer"},
                                   "formats": {"type": "array", "items": {"type": "string"}}},
                    "required": ["max_request_bytes", "max_files", "max_pixels", "formats"],
                },
                "disclaimer": {"type": "string"},
            },
            "required": ["classes", "heatmap", "limits", "disclaimer"],
        },
    }


def openapi_document(st: WebState) -> dict:
    """The document for this server's model (class names) and limits."""
    classes = list(st.classifier.classes)
    mb = st.max_request_bytes / (1024 * 1024)
    error = _ref("Error")
    predict = {
        "summary": "Classify brain MRI slices",
        "description": (
            f"Multipart upload, field `{FIELD}`, repeatable (at most {st.max_files} files, {mb:g} MB in all). "
            "The file type is sniffed from the content (JPEG, PNG, BMP, TIFF, WebP), never from the name. "
            "Status: 200 when at least one file was classified (the others carry an `error`); 400 when none "
            "could be (e.g. a single bad file: `results` says why), or when the request has no files, the "
            "wrong field, or too many files (`error`); 413 when the request is too large."
        ),
        "parameters": [{"name": "heatmap", "in": "query", "required": False,
                        "description": "1 to add heatmap_png_base64 and image_png_base64 to each classified file",
                        "schema": {"type": "string", "enum": ["0", "1", "true", "false"]}}],
        "requestBody": {"required": True, "content": {"multipart/form-data": {
            "schema": {"type": "object", "required": [FIELD], "properties": {
                FIELD: {"type": "array", "items": {"type": "string", "contentMediaType": "application/octet-stream"}}
            }},
        }}},
        "responses": {
            "200": _json(_ref("PredictResponse"), "Per-file results, in upload order."),
            "400": _json({"oneOf": [_ref("PredictResponse"), error]},
                         "No file could be classified (`results`), or a malformed request (`error`)."),
            "413": _json(error, "The request is larger than the upload limit."),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "braintumor API", "version": __version__,
                 "description": "Brain MRI slice classifier (research software, not a medical device). "
                                "Uploads are processed in memory and never stored."},
        "paths": {
            "/api/v1/predict": {"post": {**predict, "operationId": "predict"}},
            "/api/v1/model": {"get": {"operationId": "model", "summary": "Model card and server limits",
                                      "responses": {"200": _json(_ref("ModelCard"), "The model card.")}}},
            "/api/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                             "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1.")}}},
            "/healthz": {"get": {"operationId": "health", "summary": "Liveness",
                                 "responses": {"200": _json(_ref("Health"), "The server is up, its model loaded.")}}},
        },
        "components": {"schemas": _schemas(classes)},
    }
