"""What the app answers when its model fails on an upload (:class:`braintumor.model_scores.NonFiniteScores`: scores
that are not finite, from a damaged or wrongly converted model file). Among several files, that file's record says so
(``{"path", "error": MODEL_FAILED}``, counted as a ``model_failure``) and the others are answered: one such file lost
the whole request's answers. A request with no file answered and the model at fault for one, a single upload's
included (the page's script sends each file on its own), is a 503 with the sentence (:func:`model_failed_all`): the
upload is not at fault (a 400 would say it was), and only the server's operator can mend it. Its body keeps each
file's record (``{"error": ..., "results": [...]}``; the page its cards and Done line): among several files, the 503
said only the sentence, and which file the model failed on and why the others were not read was lost. A failure in a
scan's heat maps, drawn after its records, leaves those slices without a map, said in the scan's notes
(:func:`maps_failed_note`) and counted as a ``model_failure`` once; any other past the records is a 503 with
``"results": []`` (:func:`answer_model_failures`). Never the generic 500 "internal error" it was, which said nothing;
the operator's log gets the model's own words (its file, no upload's name or content).
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException

from ..model_scores import NonFiniteScores

#: What a client is told: the server's model is at fault, not the upload, and only its operator can mend it.
MODEL_FAILED = ("the server's model gave scores that are not finite (NaN or infinite) for this upload: its model file "
                "is damaged or was converted wrongly, not the upload at fault; tell the server's operator")

#: Why files were not analysed, on the Done line: static/send.js's words for this 503.
MODEL_FAILED_SHORT = "the server's model failed; tell its operator"


class ModelFailed(HTTPException):
    """503: the server cannot classify with its model until the operator replaces the file."""

    code = 503
    description = MODEL_FAILED


def _log(exc: NonFiniteScores) -> None:
    """The operator's log line: the model file and the image's place (``image 2``: a scan's slice 2), never the
    upload's name, which can hold a patient's (a scan's slice was logged as ``for Doe_John.nii.gz, slice 2``)."""
    current_app.logger.error("model failure: %s", NonFiniteScores(exc.model, exc.row))


def model_failure_text(exc: NonFiniteScores) -> str:
    """A file's record's error for the model's failure on it (:data:`MODEL_FAILED`: no model path to the client), the
    model's own words logged for the operator (:func:`_log`)."""
    _log(exc)
    return MODEL_FAILED


def maps_failed_note(exc: NonFiniteScores, slices: list[int]) -> str:
    """A scan's note for the model's failure when run again to draw the heat maps of ``slices`` (their records,
    scored before, answered: a scan lost them all, a 503 with ``"results": []``), the model's words logged once."""
    _log(exc)
    which = f" for slice{'s' * (len(slices) > 1)} {', '.join(map(str, slices))}" if slices else ""
    return (f"no heat map{which}: the server's model gave scores that are not finite (NaN or infinite) when run again "
            "to draw it: its model file is damaged or was converted wrongly, not the upload at fault; tell the "
            "server's operator")


def model_failed(rec: dict) -> bool:
    """Whether a record is of a file the model failed on (not an unreadable one)."""
    return rec.get("error") == MODEL_FAILED


def model_failed_all(records: list[dict]) -> bool:
    """Whether no record was answered and the model failed on one of them at least: a :class:`ModelFailed` 503."""
    return bool(records) and all("error" in r for r in records) and any(model_failed(r) for r in records)


def answer_model_failures(app: Flask) -> None:
    """Answer a request whose model failed past its records (:class:`NonFiniteScores` raised, not kept in a file's
    record: a scan's heat maps, drawn with the model run again on its chosen slices, web/volumes.py) as
    :class:`ModelFailed`: the OpenAPI document's ModelFailure to a JSON client, with no record (``"results": []``; it
    was ``{"error"}`` alone), else the app's own HTTP error handler (looked up when it is raised)."""

    @app.errorhandler(NonFiniteScores)
    def _model_failed(exc: NonFiniteScores):
        from . import wants_json  # the app's choice of JSON or page (web/__init__.py imports this module)

        _log(exc)
        if wants_json():
            return jsonify(error=MODEL_FAILED, results=[]), ModelFailed.code
        return app.handle_http_exception(ModelFailed())
