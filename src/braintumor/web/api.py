"""JSON API, version 1. The OpenAPI document (web/openapi.py) describes every response here."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from ..sessions import is_int8
from ..wording import listed
from .inference import HEATMAP_OFF, HEATMAP_ON, read_uploads, state, status_for
from .model_facts import model_card
from .model_failures import MODEL_FAILED, ModelFailed, model_failed_all
from .monitoring import observe_results
from .openapi import openapi_document
from .volumes import classify_entries, flatten

bp = Blueprint("api", __name__)



@bp.post("/api/v1/predict", strict_slashes=False)
def predict():
    """Classify the uploaded images and volumes (one record per slice, plus a summary per multi-slice
    volume under ``series``); ``?heatmap=1`` adds the class-activation overlays."""
    st = state()
    heatmap = _heatmap_asked()
    uploads = read_uploads(request, st.max_files)
    records, series = flatten(classify_entries(st.classifier, uploads, heatmap=heatmap and st.cam,
                                               max_slices=st.max_slices, max_pixels=st.max_request_pixels))
    observe_results(records)
    body = {"results": records, **({"series": series} if series else {})}
    if model_failed_all(records):  # nothing answered, the model at fault: its 503, with each file's record
        return jsonify(error=MODEL_FAILED, **body), ModelFailed.code
    return jsonify(body), status_for(records)


@bp.get("/api/v1/model", strict_slashes=False)
def model():
    refuse_query()
    return jsonify(model_card(state()))


@bp.get("/api/v1/openapi.json", strict_slashes=False)
def openapi():
    refuse_query()
    return jsonify(openapi_document(state(), request.script_root))


@bp.get("/healthz", strict_slashes=False)
def healthz():
    """Liveness: the process is up and its model is loaded; which model, and which file of it: the int8 copy carries
    the float file's name and version, and servers of both behind one balancer could not be told apart. The file's
    base name only (null for a model not loaded from a file): the operator's own choice, naming no patient, and the
    model card already gives the same clients all its provenance; its folder is left out (a home directory, the
    host's layout: of no use to a client)."""
    clf = state().classifier
    return jsonify(status="ok", model=clf.metadata.get("name", "unknown"),
                   model_version=clf.metadata.get("model_version", "unknown"), int8=is_int8(clf.metadata),
                   model_file=Path(clf.path).name if clf.path is not None else None)


#: The query parameters ``POST /api/v1/predict`` takes.
PREDICT_PARAMETERS = frozenset({"heatmap"})


def refuse_query(takes: frozenset[str] = frozenset(), said: str = "it takes none") -> None:
    """A query parameter the route does not take (``takes``; ``said``: what it takes) is a 400 naming it, not ignored
    without a word: ``?heatmaps=1`` on predict; ``GET /api/v1/model?x=1``, which answered as if it were not there."""
    if unknown := sorted(set(request.args) - takes):
        names = listed(["?" + (name if len(name) <= 40 else name[:40] + "...") for name in unknown])
        raise BadRequest(f"{names} {'is not a parameter' if len(unknown) == 1 else 'are not parameters'} of this "
                         f"route: {said}")


def _heatmap_asked() -> bool:
    """``?heatmap=``: a value it does not know (``?heatmap=ture``) or two that disagree are an error, not 'off'; so is
    a parameter it does not take (``?heatmaps=1``, ``?filename=scan.jpg``), which was ignored without a word."""
    refuse_query(PREDICT_PARAMETERS, "it takes ?heatmap=1 or 0 only (a file sent as the whole body is named by its "
                 "Content-Disposition header, not in the URL)")
    values, on, off = {v.lower() for v in request.args.getlist("heatmap")}, set(HEATMAP_ON), set(HEATMAP_OFF)
    if not values <= on | off or (values & on and values & off):
        raise BadRequest("?heatmap takes 1 or 0 (true/false, yes/no, on/off), once")
    return bool(values & on)
