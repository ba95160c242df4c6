"""quiet_pillow keeps Pillow's warnings off stderr on the reading thread only, and leaves the process's warning filters
as they were: it used ``warnings.catch_warnings``, which swaps the one list of filters every thread shares (until
Python 3.14), so the server's request threads reading at once dropped each other's warnings, could leave Pillow's
ignored for good, and made Python forget which warnings it had already shown."""

from __future__ import annotations

import io
import threading
import warnings

import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor.image_io import ImageError, read_image
from braintumor.quiet_libraries import quiet_pillow


def _pillow_warns(text: str) -> None:
    """A warning as Pillow's modules raise it (the module is what the filters look at)."""
    warnings.warn_explicit(text, UserWarning, "PIL/TiffImagePlugin.py", 1, module="PIL.TiffImagePlugin", registry={})


def test_only_the_reading_threads_pillow_warnings_are_dropped():
    inside, done = threading.Event(), threading.Event()

    def reader() -> None:
        with quiet_pillow():
            _pillow_warns("on the reading thread")
            inside.set()
            done.wait(10)

    with warnings.catch_warnings(record=True) as seen:
        thread = threading.Thread(target=reader)
        thread.start()
        assert inside.wait(10)
        _pillow_warns("on another thread, meanwhile")  # was dropped: the reader's filter was every thread's
        done.set()
        thread.join(10)
    assert [str(w.message) for w in seen] == ["on another thread, meanwhile"]


def test_two_threads_reading_at_once_leave_the_filters_as_they_were():
    """A enters, B enters, A leaves, B leaves: B restored the list it found, A's filter in it, for good."""
    steps = [threading.Event() for _ in range(3)]

    def first() -> None:
        with quiet_pillow():
            steps[0].set()
            steps[1].wait(10)
        steps[2].set()

    def second() -> None:
        steps[0].wait(10)
        with quiet_pillow():
            steps[1].set()
            steps[2].wait(10)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_pillow():  # its own filters go in once
            pass
        filters = list(warnings.filters)
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert warnings.filters == filters
        _pillow_warns("after both")
    assert [str(w.message) for w in seen] == ["after both"]


def test_a_read_does_not_bring_back_the_callers_warnings_already_shown():
    """Each swap of the filter list made Python forget what it had shown: the caller's warning of one place, shown
    once by default, came back after every image."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        with quiet_pillow():
            pass
        for _ in range(3):
            warnings.warn("the caller's", UserWarning, stacklevel=1)
            with quiet_pillow():
                pass
    assert [str(w.message) for w in seen] == ["the caller's"]


def test_a_decompression_bomb_warning_is_still_an_error_when_reading(monkeypatch):
    """Pillow warns between its pixel limit and twice it; read_image refuses such an image, others only warn."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)  # 64 x 64 = 4096: over it, under twice it
    png = encode(synthetic_head(64), "PNG")
    with pytest.raises(ImageError):
        read_image(png)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_pillow():  # an error only for a read that asked for it
            Image.open(io.BytesIO(png)).close()
        Image.open(io.BytesIO(png)).close()
    assert [w.category for w in seen] == [Image.DecompressionBombWarning]
