"""A scan's block on the page (``_series.html``'s ``series_block``), rendered from a summary record alone: the tests
of the words its line says (lower confidence, unreadable, skull-stripped) share it."""

from __future__ import annotations

from types import SimpleNamespace

from braintumor.web import create_app


def series_html(classifier, path: str, summary: dict, strip: list | None = None) -> str:
    """The block's HTML, whitespace collapsed, for a scan ``path`` whose summary is ``summary`` (classes: glioma)."""
    app = create_app(classifier=classifier)
    entry = SimpleNamespace(summary={"path": path, "summary": summary}, refusals=[], strip=strip or [], shown_top=[])
    with app.test_request_context("/"):
        template = app.jinja_env.from_string('{% from "_series.html" import series_block %}'
                                             '{{ series_block(entry, ["glioma"], False) }}')
        return " ".join(template.render(entry=entry).split())
