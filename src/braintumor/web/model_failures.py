"""What the app answers when its model fails on an upload (:class:`braintumor.model_scores.NonFiniteScores`: scores
that are not finite, from a damaged or wrongly converted model file): a 503 with a sentence, through the app's HTTP
error path (the JSON ``{"error": ...}`` or the page), never the generic 500 "internal error" it was, which said
nothing; the operator's log gets the model's own words (its file, no upload's name or content).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from ..model_scores import NonFiniteScores

#: What a client is told: the server's model is at fault, not the upload, and only its operator can mend it.
MODEL_FAILED = ("the server's model gave scores that are not finite (NaN or infinite) for this upload: its model file "
                "is damaged or was converted wrongly, not the upload at fault; tell the server's operator")


class ModelFailed(HTTPException):
    """503: the server cannot classify with its model until the operator replaces the file."""

    code = 503
    description = MODEL_FAILED


def answer_model_failures(app: Flask) -> None:
    """Answer a request whose classification met :class:`NonFiniteScores` as :class:`ModelFailed`, with the app's
    own HTTP error handler (registered before this is called or after: looked up when it is raised)."""

    @app.errorhandler(NonFiniteScores)
    def _model_failed(exc: NonFiniteScores):
        app.logger.error("model failure: %s", exc)
        return app.handle_http_exception(ModelFailed())
