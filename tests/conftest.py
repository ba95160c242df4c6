"""Shared fixtures: the real dataset (from ../shared, or $BRAINTUMOR_DATA), synthetic images,
and one tiny model trained for real on a few dozen images (session-scoped: trained once)."""

from __future__ import annotations

import importlib.util
import io
import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
# Tests that load a script (importlib) need what the script imports from beside it (_checkout, held_out_source),
# as `python scripts/X.py` finds it; appended, so nothing there shadows a module of the package or its libraries.
sys.path.append(str(REPO / "scripts"))
# A shell starts a background job (`pytest ... &` in a script) with SIGINT ignored, and every command the tests start
# inherited that: the tests of Ctrl-C (a SIGINT sent to a predict) saw it ignored and failed. A handler is reset to
# the default in a started program, an ignored signal is not: so the tests run as if started in the foreground.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# `nohup pytest` ignores SIGHUP, and predict leaves a signal ignored as it finds it (a nohup'd run goes on): the tests
# of SIGHUP (exit 129) saw it ignored and failed. Those tests run as if started without nohup.
if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _data_root() -> Path:
    raw = Path(os.environ.get("BRAINTUMOR_DATA", "../shared/datasets/brain-tumor-mri"))
    return raw if raw.is_absolute() else (REPO / raw).resolve()


DATA_ROOT = _data_root()


def extra_reason(*packages: str, what: str = "this test") -> str:
    """A skip reason naming the extra that installs ``packages`` (from the commands' own table, script_entry.EXTRAS),
    for ``pytest.importorskip(..., reason=...)`` and :func:`needs`: pytest's own "could not import 'torch'" left a
    user of the core install guessing which extra to install."""
    from braintumor.script_entry import EXTRAS

    extras = ",".join(sorted({EXTRAS[name] for name in packages}))
    return f"{what} needs {' and '.join(packages)}: pip install 'braintumor[{extras}]'"


def needs(what: str, *packages: str) -> pytest.MarkDecorator:
    """Skip a test where a package of an optional extra is not installed, the reason naming the extra: the core
    install with [dev] runs the tests, and a command that stops at "torch is not installed" before what a test checks
    failed there instead of skipping."""
    missing = [name for name in packages if importlib.util.find_spec(name) is None]
    return pytest.mark.skipif(bool(missing), reason=extra_reason(*missing, what=what) if missing else "")


#: train, orientation and ensembles build networks (torch); export, calibrate and quantize write ONNX files (onnx):
#: each says its missing package before the checks their tests are about
needs_torch = needs("training", "torch")
needs_onnx = needs("writing a model file", "onnx")


@pytest.fixture(scope="session")
def data_root() -> Path:
    if not (DATA_ROOT / "Training").is_dir():
        pytest.skip(f"dataset not found at {DATA_ROOT} (set BRAINTUMOR_DATA)")
    return DATA_ROOT


@pytest.fixture(scope="session")
def test_images(data_root: Path) -> dict[str, list[Path]]:
    """A few real test images per class."""
    return {c: sorted((data_root / "Testing" / c).glob("*.jpg"))[:3] for c in
            ("glioma", "meningioma", "notumor", "pituitary")}


def synthetic_head(size: int = 200, canvas: tuple[int, int] | None = None, offset: tuple[int, int] = (0, 0),
                   seed: int = 0) -> np.ndarray:
    """A bright ellipse with texture on black: enough "head" for the crop to find."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    inside = ((yy - size / 2) / (size * 0.42)) ** 2 + ((xx - size / 2) / (size * 0.36)) ** 2 <= 1
    img = np.where(inside, 90 + 60 * np.sin(xx / 7.0) * np.cos(yy / 9.0) + rng.normal(0, 5, (size, size)), 0)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if canvas is None:
        return img
    out = np.zeros(canvas, dtype=np.uint8)
    out[offset[0]:offset[0] + size, offset[1]:offset[1] + size] = img
    return out


def encode(arr: np.ndarray, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="session")
def tiny_run(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real training run on 8 images per class, 1 epoch, 64 px, through the CLI: skipped without torch (the core
    install, a Python torch has no wheel for), where "assert rc == 0" was an error in every test using the model."""
    from braintumor.cli import main

    pytest.importorskip("torch", reason=extra_reason("torch", what="the tiny model's training"))
    run = tmp_path_factory.mktemp("run") / "tiny"
    cache = tmp_path_factory.mktemp("cache")
    rc = main(["train", "--data", str(data_root), "--out", str(run), "--epochs", "1", "--limit-per-class", "8",
               "--image-size", "64", "--batch-size", "16", "--cache-dir", str(cache)])
    assert rc == 0
    return run


@pytest.fixture(scope="session")
def tiny_model(tiny_run: Path) -> Path:
    from braintumor.cli import main

    # Uncalibrated: 4 validation images cannot set an OOD threshold, and most tests need plain labels.
    # Calibration and refusal are tested in test_ood.py (tiny copy) and on the shipped model.
    out = tiny_run / "model.onnx"
    assert main(["export", str(tiny_run), "--out", str(out), "--no-calibrate"]) == 0
    return out


@pytest.fixture(scope="session")
def tiny_classifier(tiny_model: Path):
    """The tiny model loaded once, with one thread (the web tests build many apps around it)."""
    from braintumor.predictor import Classifier

    return Classifier.load(tiny_model, threads=1)


# The Python API tests' shipped model (tests/test_python_api.py, test_python_api_arrays.py): a module's own clf, loaded
# with other settings, takes precedence.
@pytest.fixture(scope="module")
def clf():
    """The shipped model, loaded once per module."""
    from braintumor.predictor import Classifier

    return Classifier.load()


# The evaluation tests' shared images (tests/test_evaluate*.py; their stand-ins are in tests/evaluate_fakes.py).
@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    """ROOT/Testing/<class>/ with a few real images each, and one corrupt file among the gliomas (skipped, through
    ``data_root``, where the dataset is not: a test using it outside test_evaluate*'s skip failed in a bare clone)."""
    import shutil

    from evaluate_fakes import PER_CLASS, TESTING

    from braintumor.classes import CLASSES
    from braintumor.image_files import walk_images

    root = tmp_path_factory.mktemp("data")
    for name in CLASSES:
        (root / "Testing" / name).mkdir(parents=True)
        for src in list(walk_images(TESTING / name))[:PER_CLASS]:
            shutil.copy(src, root / "Testing" / name / src.name)
    (root / "Testing" / "glioma" / "zz_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    return root


# The volume readers' tests' shared slices (tests/test_dicom_*.py, test_nifti_volumes.py, test_volume_*.py).
@pytest.fixture(scope="module")
def gray(test_images) -> np.ndarray:
    """A real test slice, decoded at full resolution."""
    from braintumor.image_io import read_image

    return read_image(test_images["glioma"][0])


@pytest.fixture(scope="module")
def stack(test_images) -> list[np.ndarray]:
    """Six real slices of one size (a volume needs one size)."""
    from braintumor.image_io import read_image

    paths = [p for c in ("glioma", "notumor", "pituitary") for p in test_images[c][:2]]
    return [np.asarray(Image.fromarray(read_image(p)).resize((160, 160)), dtype=np.uint8) for p in paths]


# The browser tests' shared fixtures (tests/test_browser*.py): a module's own fixture of the same name takes precedence.
@pytest.fixture(scope="module")
def server(request):
    """The web app on a loopback port in a thread, with the shipped model (the tiny one where it is absent)."""
    from test_browser import serve_in_thread, shipped_or_tiny_app

    with serve_in_thread(shipped_or_tiny_app(request)) as url:
        yield url


@pytest.fixture(scope="session")
def playwright_driver():
    """One Playwright for the whole run, for every browser the tests launch: a second one in the same thread is
    refused, and starting one for each browser test file cost a second or more each."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def _launched_chromium(playwright_driver) -> Iterator[dict]:
    """{"browser": the chromium the ``chromium`` fixture hands out}: launched once for the run (a launch per browser
    test file cost seconds each), launched again by that fixture where it has gone (a crash)."""
    held: dict = {}
    yield held
    if held.get("browser") is not None and held["browser"].is_connected():
        held["browser"].close()


@pytest.fixture(scope="module")
def chromium(playwright_driver, _launched_chromium):
    """Debian's chromium driven by Playwright, no profile (skipped where either is absent, as test_browser says): one
    browser for the run, and the contexts (and their pages) a test file opened in it closed at the file's end, so
    nothing of one file's pages is there for the next."""
    from test_browser import ARGS, CHROMIUM

    browser = _launched_chromium.get("browser")
    if browser is None or not browser.is_connected():
        browser = _launched_chromium["browser"] = playwright_driver.chromium.launch(
            executable_path=CHROMIUM, args=ARGS, headless=True)
    try:
        yield browser
    finally:
        for context in list(browser.contexts) if browser.is_connected() else ():
            context.close()


def page_disclaimer(html: str) -> str:
    """The text of a page's medical disclaimer, tags and line breaks taken out (its lead is bold)."""
    aside = re.search(r'<aside class="disclaimer"[^>]*>(.*?)</aside>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", aside.group(1)).split()) if aside else ""


def drawn_titles(monkeypatch) -> list[str]:
    """Every axes title and figure title matplotlib draws from now on, in order (what a figure says it shows)."""
    import matplotlib.axes
    import matplotlib.figure

    said: list[str] = []

    def recorder(real):
        def record(obj, text, *args, **kwargs):
            said.append(text)
            return real(obj, text, *args, **kwargs)
        return record

    for cls, name in ((matplotlib.axes.Axes, "set_title"), (matplotlib.figure.Figure, "suptitle")):
        monkeypatch.setattr(cls, name, recorder(getattr(cls, name)))
    return said
