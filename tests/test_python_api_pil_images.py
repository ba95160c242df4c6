"""One PIL image opened lazily (``Image.open``, pixels not read yet) and given to the API more than once: predicted,
then explained; or by several threads at once. Each time gets the answer its file gets."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image
from test_image_gray_conversion import _png16

from braintumor import Classifier
from braintumor.heatmap import explain


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load(threads=1)


def test_a_lazy_16_bit_colour_png_gets_its_files_answer_every_time(clf):
    """The first call loaded the caller's image, which dropped its file: the second read Pillow's high bytes alone (a
    12-bit image's levels 0-15 of 255), another image, another answer; an explanation after a prediction explained
    that one."""
    twelve = synthetic_head(200).astype(np.uint16) * 16 + 7
    data = _png16(np.dstack([twelve] * 3))
    want = clf.predict(data)
    img = Image.open(io.BytesIO(data))
    assert [clf.predict(img), clf.predict(img), explain(clf, img).prediction] == [want] * 3
    assert explain(clf, img).image.tobytes() == explain(clf, data).image.tobytes()


class _MeetingFile(io.BytesIO):
    """A file whose first read waits (up to a moment) for a second thread to read it too, and counts how many threads
    were reading it at once: two threads inside Pillow's load() of one image at the same time."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.inside, self.most, self.first, self.second = 0, 0, threading.Event(), threading.Event()
        self._count = threading.Lock()

    def read(self, *args):
        with self._count:
            self.inside += 1
            self.most = max(self.most, self.inside)
            waiting = not self.first.is_set()
        try:
            if waiting and self.most == 1 and threading.current_thread() is not threading.main_thread():
                self.first.set()
                self.second.wait(0.5)  # the second reader arrives here at once when nothing keeps it out
            elif self.first.is_set():
                self.second.set()
            return super().read(*args)
        finally:
            with self._count:
                self.inside -= 1


@pytest.mark.parametrize("kind", ["8-bit gray", "16-bit colour"])
def test_threads_sharing_one_lazy_pil_image_read_its_file_one_at_a_time(clf, kind):
    """Pillow decodes a lazily opened image on first use, from its one file, and not for two threads at once: they
    read it in turns and the loser failed ('image cannot be read as grayscale (AttributeError)', or 'the PIL image is
    closed') or read pixels the other was writing. Two threads now take turns on it."""
    head = synthetic_head(200)
    data = encode(head) if kind == "8-bit gray" else _png16(np.dstack([head.astype(np.uint16) * 16] * 3))
    want = clf.predict(data)
    fp = _MeetingFile(data)
    img = Image.open(fp)
    got: list = []

    def predict() -> None:
        try:
            got.append(clf.predict(img))
        except Exception as exc:  # the failure is what the test reports
            got.append(exc)

    first = threading.Thread(target=predict)
    first.start()
    assert fp.first.wait(10)
    second = threading.Thread(target=predict)
    second.start()
    first.join(20)
    second.join(20)
    assert fp.most == 1 and got == [want, want]


def test_predicting_a_lazy_pil_image_leaves_it_as_loading_it_does(clf):
    """The lock that keeps threads reading a lazy image's file in turns was kept on the caller's image itself
    (``vars(img)`` gained a private attribute): predicting an image must change it no more than loading it does."""
    data = encode(synthetic_head(200))
    predicted, loaded = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(data))
    clf.predict(predicted)
    loaded.load()
    assert sorted(vars(predicted)) == sorted(vars(loaded))


def test_a_pil_image_of_a_gif_gets_the_answer_of_the_png_its_refusal_says_to_convert_it_to(clf, tmp_path):
    """A GIF file is refused for its format ("convert it to PNG"), its PIL image accepted: the refusal is of the file
    reader (image_io.ALLOWED_FORMATS, the decoders run on untrusted bytes), not of its pixels, which that PNG keeps,
    gray and palette-quantised colour alike; so the image, decoded by the caller, is answered as that PNG is."""
    from braintumor import ImageError

    head = synthetic_head(200)
    tinted = np.dstack([head, (head * 0.7).astype(np.uint8), (head * 0.4).astype(np.uint8)])
    for pixels in (head, tinted):
        gif = tmp_path / "slice.gif"
        Image.fromarray(pixels).save(gif)
        with pytest.raises(ImageError, match=r"^GIF image, a format braintumor does not read: convert it to PNG"):
            clf.predict(gif)
        with Image.open(gif) as img:
            png = io.BytesIO()
            img.save(png, format="PNG")
            assert clf.predict(img) == clf.predict(png.getvalue())


def test_readme_says_a_big_jpeg_file_is_decoded_smaller_than_its_pixels_in_memory(clf):
    """README said an image in memory gets the answer of a file of the same pixels, with no exception; but a JPEG file
    of 640 px or more a side is decoded at reduced scale (libjpeg's draft, ``image_io.decode_plane``), which its
    decoded pixels handed over as an array or a PIL image are not: their crops differ, and their answers may."""
    from conftest import REPO

    text = " ".join((REPO / "README.md").read_text().split())
    assert "A JPEG file of 640 px or more on its shorter side is the exception" in text
    for side, same in ((639, True), (640, False)):
        data = encode(np.asarray(Image.fromarray(synthetic_head(200)).resize((side, side))), "JPEG")
        decoded = np.asarray(Image.open(io.BytesIO(data)))
        from_file, from_pixels = clf.inspect_crop(data)[0], clf.inspect_crop(decoded)[0]
        assert np.array_equal(from_file, from_pixels) == same, side
        assert np.array_equal(clf.inspect_crop(Image.open(io.BytesIO(data)))[0], from_pixels)  # a PIL image: its pixels
