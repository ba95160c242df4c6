"""WCAG 2.1 1.4.11 (non-text contrast) for the page's graphics: the probability bars, the scan strip and its legend,
the dashboard's charts, keys and class-mix bars each stand >= 3:1 against the colours next to them. Computed from the
CSS the server serves (its custom properties resolved), in the light scheme and, where the CSS has one, the dark
(``@media (prefers-color-scheme: dark)``): the bars' grey fill was 2.4:1 on its track, the strip's "No tumour" bars
2.3:1, and four of the dashboard's six class colours under 3:1 on the chart."""

from __future__ import annotations

import re

import pytest

from braintumor.model_files import default_model_path
from braintumor.predictor import Classifier
from braintumor.web import create_app

MIN_RATIO = 3.0


@pytest.fixture(scope="module")
def served(request) -> str:
    """app.css and dashboard.css as the server sends them, in the order the dashboard loads them."""
    shipped = default_model_path()
    model = shipped if shipped.is_file() else request.getfixturevalue("tiny_model")
    client = create_app(classifier=Classifier.load(model, threads=1)).test_client()
    texts = []
    for name in ("app.css", "dashboard.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200
        texts.append(r.get_data(as_text=True))
    return "\n".join(texts)


def rules(css: str, dark: bool) -> list[tuple[list[str], dict[str, str]]]:
    """(selectors, declarations) of every rule in order; a dark-scheme block's rules only when ``dark``, other
    @media blocks (print, forced colours, narrow windows) left out: they change no colour of these graphics."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out, pos = [], 0
    for m in re.finditer(r"([^{}]+)\{", css):
        if m.start() < pos:
            continue
        head = m.group(1).strip()
        if head.startswith("@"):
            depth, i = 1, m.end()
            while depth:
                depth += {"{": 1, "}": -1}.get(css[i], 0)
                i += 1
            if dark and "prefers-color-scheme" in head and "dark" in head:
                out += rules(css[m.end():i - 1], dark)
            pos = i
            continue
        end = css.index("}", m.end())
        decls = dict((k.strip(), v.strip()) for k, _, v in
                     (d.partition(":") for d in css[m.end():end].split(";") if ":" in d))
        out.append(([s.strip() for s in head.split(",")], decls))
        pos = end + 1
    return out


class Sheet:
    """Look-ups in the served CSS: the last value a selector (as written) is given for a property."""

    def __init__(self, css: str, dark: bool) -> None:
        self.rules = rules(css, dark)
        self.vars = {k: v for sels, d in self.rules if ":root" in sels for k, v in d.items() if k.startswith("--")}

    def value(self, selector: str, *props: str) -> str | None:
        found = None
        for sels, decls in self.rules:
            if selector in sels:
                for prop in props:
                    if prop in decls:
                        found = decls[prop]
        return found

    def colour(self, selector: str, *props: str) -> tuple[float, float, float]:
        raw = self.value(selector, *props)
        assert raw, f"{selector} sets none of {props}"
        raw = re.sub(r"var\((--[\w-]+)\)", lambda m: self.vars[m.group(1)], raw)
        hexes = re.findall(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", raw)
        assert len(hexes) == 1, f"{selector} {props}: one #colour expected in {raw!r}"
        h = hexes[0][1:]
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))


def luminance(rgb: tuple[float, float, float]) -> float:
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def ratio(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


BG, FILL, STROKE = ("background", "background-color"), ("fill",), ("stroke",)
BORDER = ("border", "border-color")

# (what is drawn, its selector and properties, what it is drawn on, that selector and properties)
PAIRS = [
    # a result card's probability bars: the fill on its track, the track's outline on the card
    *[(f"bar fill {fill}", fill, BG, "track", ".bar-meter::-webkit-meter-bar", BG) for fill in (
        ".bar-meter::-webkit-meter-optimum-value", ".bar-top .bar-meter::-webkit-meter-optimum-value",
        ".bar-meter::-moz-meter-bar", ".bar-top .bar-meter::-moz-meter-bar")],
    ("bar outline", ".bar-meter", BORDER, "card", ".card", BG),
    # the scan strip: each bar on the plot, the plot's frame and 50 % line, each legend key on the card
    *[(f"strip bar {c}", f".strip-{c}", FILL, "plot", ".strip-plot", BG)
      for c in ("glioma", "meningioma", "pituitary", "notumor")],
    *[(f"strip column {c} (outline)", f".strip-{c}", STROKE, "plot", ".strip-plot", BG) for c in ("refused", "failed")],
    ("strip frame", ".strip-plot", BORDER, "card", ".series", BG),
    ("strip 50 % line", ".strip-mid", STROKE, "plot", ".strip-plot", BG),
    *[(f"strip key {c}", f".strip-{c}", BG, "card", ".series", BG)
      for c in ("glioma", "meningioma", "pituitary", "notumor")],
    *[(f"strip key {c} (outline)", f".strip-{c}", BORDER, "card", ".series", BG) for c in ("refused", "failed")],
    # the dashboard: lines, class colours (bars and keys), the axis, the class-mix bars
    *[(f"chart line {c}", f".{c}", STROKE, "chart", ".chart", BG) for c in ("line-a", "line-b")],
    *[(f"chart key {c}", f".key-{c}", BG, "tile", ".tile", BG) for c in ("a", "b")],
    *[(f"chart bar series-{k}", f".series-{k}", FILL, "chart", ".chart", BG) for k in range(6)],
    *[(f"class key series-{k}", f".series-{k}", BG, "tile", ".tile", BG) for k in range(6)],
    ("chart axis", ".chart .axis", STROKE, "chart", ".chart", BG),
    ("class-mix fill", ".mix meter::-webkit-meter-optimum-value", BG, "track", ".mix meter::-webkit-meter-bar", BG),
    ("class-mix fill (Firefox)", ".mix meter::-moz-meter-bar", BG, "track", ".mix meter::-webkit-meter-bar", BG),
    ("class-mix outline", ".mix meter", BORDER, "tile", ".tile", BG),
]


def test_every_bar_and_chart_graphic_stands_3_to_1_against_what_it_touches(served):
    low = []
    schemes = [False, True] if "prefers-color-scheme" in served else [False]  # a dark scheme, when the page has one
    for (what, sel, props, under, under_sel, under_props), dark in ((p, d) for d in schemes for p in PAIRS):
        sheet = Sheet(served, dark)
        what = f"{what} (dark)" if dark else what
        try:
            r = ratio(sheet.colour(sel, *props), sheet.colour(under_sel, *under_props))
        except AssertionError as exc:  # a graphic with no colour of its own here: said with the others
            low.append(f"{what}: {exc}".splitlines()[0])
            continue
        if r < MIN_RATIO:
            low.append(f"{what} on {under}: {r:.2f}:1")
    assert not low, "\n".join(low)



def test_an_answers_bar_has_no_colour_the_strip_gives_a_class(served):
    """The answer's bar (.bar-top) was the strip's glioma orange: under a scan's legend ("Glioma" in that orange), a
    pituitary or no-tumour slice card showed its answer in glioma's colour. Its colour is none of the strip's classes'
    (nor the other bars' grey, which would hide which bar is the answer)."""
    sheet = Sheet(served, dark=False)
    classes = {c: sheet.colour(f".strip-{c}", *FILL) for c in ("glioma", "meningioma", "pituitary", "notumor")}
    for top in (".bar-top .bar-meter::-webkit-meter-optimum-value", ".bar-top .bar-meter::-moz-meter-bar"):
        colour = sheet.colour(top, *BG)
        assert colour not in classes.values(), (top, classes)
        assert colour != sheet.colour(".bar-meter::-webkit-meter-optimum-value", *BG), top
