"""Habits a Python user brings from elsewhere: ``~/scans/a.jpg`` (a shell expands ~, Python does not), colour as floats
in 0-255 (OpenCV's and scikit-image's conversions)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from conftest import encode, synthetic_head

from braintumor import ImageError


def test_a_name_under_an_unexpanded_home_says_that_tilde_is_not_expanded(clf, tmp_path, monkeypatch):
    """``predict("~/scans/a.jpg")`` said "file not found: ~/scans/a.jpg" of a file the user can see there: a
    notebook's habit from the shell. A name whose expansion is not there either is told only that it is not found."""
    from braintumor.volume_io import read_volumes

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "a.png").write_bytes(encode(synthetic_head()))
    for call in (clf.predict, read_volumes):
        with pytest.raises(ImageError, match=r"^file not found: ~/a\.png \(~ is not expanded: os\.path\.expanduser"
                                             r"\(name\) in Python, ~ unquoted in a shell\)$"):
            call("~/a.png")
        with pytest.raises(ImageError, match=r"^file not found: ~/gone\.png$"):
            call("~/gone.png")
    assert clf.predict(tmp_path / "a.png") == clf.predict(synthetic_head())


def test_a_model_under_an_unexpanded_home_says_that_tilde_is_not_expanded(tmp_path, monkeypatch):
    """``Classifier.load("~/models/m.onnx")`` said "model file not found ... (train and export one, ...)" of a model
    that is there."""
    import shutil

    from braintumor import Classifier

    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copy(Classifier.load().path, tmp_path / "m.onnx")
    with pytest.raises(FileNotFoundError, match=r"^model file not found: ~/m\.onnx \(~ is not expanded: "):
        Classifier.load("~/m.onnx")
    with pytest.raises(FileNotFoundError, match=r"^model file not found: ~/gone\.onnx \(train and export one"):
        Classifier.load("~/gone.onnx")


def test_float_colour_in_0_to_255_is_told_a_conversion_that_keeps_its_levels(clf):
    """A float (H, W, 3) array in 0-255 was told "colour in [0, 1]? np.round(arr * 255).astype(np.uint8)": done, its
    levels wrapped around in uint8 and the image became noise. Each range is told the conversion that fits it, and
    following it gives the uint8 image's answer; a range that fits neither gets no such hint."""
    import re

    import numpy as np

    rgb = np.repeat(synthetic_head()[..., None], 3, axis=-1)
    for levels, call in ((rgb.astype(np.float32), "np.round(arr)"), (rgb / 255.0, "np.round(arr * 255)")):
        with pytest.raises(ImageError, match=re.escape(f"? {call}.astype(np.uint8) makes it 8-bit; 3 slices")):
            clf.predict(levels)
        converted = np.round(levels * (255 if levels.max() <= 1 else 1)).astype(np.uint8)
        assert clf.predict(converted) == clf.predict(rgb)
    with pytest.raises(ImageError, match=r"not float64 \(3 slices of a volume"):
        clf.predict(rgb * 4.0)


@pytest.mark.parametrize("url", ["https://example.org/scans/a.png", "s3://bucket/a.png", "file:///tmp/a.png"])
def test_a_url_is_told_that_files_are_read_not_urls(clf, url):
    """``predict("https://.../a.png")`` said "file not found: https:/example.org/scans/a.png" (pathlib makes its //
    one /), as if a file of that name were missing; the model's URL was told to "train and export one". A Windows
    drive's name (``C:/``) is no URL."""
    from braintumor import Classifier
    from braintumor.volume_io import read_volumes

    told = " (a URL: braintumor reads files, not URLs: download it first)"
    for call in (clf.predict, read_volumes):  # the name as typed: pathlib's made https:// https:/
        with pytest.raises(ImageError) as caught:
            call(url)
        assert str(caught.value) == f"file not found: {url}{told}"
    [(_, outcome)] = clf.predict_many([url])
    assert str(outcome) == f"file not found: {url}{told}"
    told = re.escape(told) + "$"
    model = url.replace("a.png", "m.onnx")
    with pytest.raises(FileNotFoundError, match="^" + re.escape(f"model file not found: {model}") + told):
        Classifier.load(model)
    with pytest.raises(ImageError, match=r"^file not found: C:/scans/a\.png$"):
        clf.predict("C:/scans/a.png")


def test_a_file_url_of_a_file_that_is_there_is_told_its_path(clf, tmp_path):
    """``predict("file:///.../a 1.png")`` (a URL copied from a browser's address bar or a notebook's link) was told to
    "download it first", of a file already on the disk: it is told the path to pass, its %20 decoded, in each call
    that reads files, and in the command line's words too (the same helper)."""
    from braintumor import Classifier
    from braintumor.volume_io import read_volumes

    image = tmp_path / "a 1.png"
    image.write_bytes(encode(synthetic_head()))
    url = image.as_uri()
    assert "%20" in url
    told = f"file not found: {url} (a file: URL: pass its path, {image})"
    for call in (clf.predict, read_volumes):
        with pytest.raises(ImageError) as caught:
            call(url)
        assert str(caught.value) == told
    assert str(next(clf.predict_many([url]))[1]) == told
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match=re.escape(f"(a file: URL: pass its path, {model})")):
        Classifier.load(model.as_uri())
    assert clf.predict(str(image)).label == clf.predict(image).label  # the path it names is read


@pytest.mark.skipif(os.name == "nt", reason="a POSIX file name of bytes that are not UTF-8")
def test_a_file_url_of_a_name_not_utf8_is_told_its_path_and_another_hosts_is_not(clf, tmp_path):
    """``Path.as_uri()`` of a name that is not UTF-8 writes its bytes %E9: read back as UTF-8 they named no file, and
    that file's URL was told to "download it first". A URL of another host (``file://server/...``) names no file of
    this disk, even where a file here has its path."""
    image = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.png"))
    image.write_bytes(encode(synthetic_head()))
    url = image.as_uri()
    assert "%E9" in url
    with pytest.raises(ImageError, match=re.escape(f"(a file: URL: pass its path, {image})")):
        clf.predict(url)
    with pytest.raises(ImageError, match=re.escape("(a URL: braintumor reads files, not URLs: download it first)")):
        clf.predict(url.replace("file://", "file://server", 1))
    assert str(next(clf.predict_many([url.replace("file://", "file://localhost", 1)]))[1]).endswith(f"{image})")


def test_a_name_with_the_newline_of_its_line_says_so(clf, tmp_path):
    """``predict_many(open("list.txt").readlines())`` said "file not found: .../a.png" of every name, each looking
    right (the newline at its end unseen). A name with white space at either end is shown as repr; one whose name
    without it is there says so, one whose name without it is not there either is told only that it is not found."""
    from braintumor.volume_io import read_volumes

    (tmp_path / "a.png").write_bytes(encode(synthetic_head()))
    (tmp_path / "list.txt").write_text(f"{tmp_path / 'a.png'}\n{tmp_path / 'gone.png'}\n")
    with open(tmp_path / "list.txt") as names:
        outcomes = [str(outcome) for _, outcome in clf.predict_many(names.readlines())]
    a, gone = (f"{tmp_path / name}\n" for name in ("a.png", "gone.png"))
    assert outcomes == [f"file not found: {a!r} (the name ends with '\\n', and without it the name is there: lines "
                        "read from a file keep their newline, which str.strip() removes)", f"file not found: {gone!r}"]
    for call in (clf.predict, read_volumes):  # a space at either end is no line's newline: not told it is
        with pytest.raises(ImageError, match=r" \(the name starts with '  ', and without it the name is there: "
                                             r"str\.strip\(\) removes white space at a name's ends\)$"):
            call(f"  {tmp_path / 'a.png'}")
        with pytest.raises(ImageError, match=r" \(the name ends with ' ', and without it the name is there: "
                                             r"str\.strip\(\) removes white space at a name's ends\)$"):
            call(f"{tmp_path / 'a.png'} ")


def test_an_array_file_is_told_what_it_is_and_how_its_array_is_predicted(clf, tmp_path, capsys):
    """A slice saved as NumPy's .npy or .npz, MATLAB's .mat (the figshare brain tumour set's MATLAB 7.3 files: HDF5)
    or HDF5 was "not a recognised image" sent on to read_volumes ("not a recognised volume"), and an .npz "a zip file,
    not a 2-D image: read_volumes reads scans" (which said "zip archive holds no DICOM or NIfTI file"). Each is named,
    with how Python reads its array, by predict, read_volumes and the CLI alike; the array so read is predicted."""
    import json

    import numpy as np
    import scipy.io
    from cli_runner import run_predict

    from braintumor.volume_io import read_volumes

    head = synthetic_head()
    np.save(tmp_path / "a.npy", head)
    np.savez(tmp_path / "b.npz", slice=head)
    scipy.io.savemat(tmp_path / "c.mat", {"slice": head})
    (tmp_path / "d.mat").write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(512)
                                     + b"\x89HDF\r\n\x1a\n" + bytes(600))
    (tmp_path / "e.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(600))
    told = {"a.npy": ("a NumPy array file (.npy)", "np.load(name)"),
            "b.npz": ("a NumPy archive (.npz)", "np.load(name)[key]"),
            "c.mat": ("a MATLAB file (.mat)", "scipy.io.loadmat(name)[key]"),
            "d.mat": ("a MATLAB 7.3 file (.mat)", "h5py.File(name)[key][()].T"),
            "e.h5": ("an HDF5 file", "h5py.File(name)[key][()]")}
    for name, (what, how) in told.items():
        said = (f"{what}, not an image or scan: save the slice as PNG, or in Python pass its array to "
                f"Classifier.predict ({how} reads it)")
        for call in (clf.predict, read_volumes, lambda x: clf.predict(x.read_bytes())):
            with pytest.raises(ImageError) as refused:
                call(tmp_path / name)
            assert str(refused.value) == said
        rc, out, _ = run_predict([tmp_path / name, "--format", "jsonl"], capsys)
        assert rc == 1 and json.loads(out)["error"] == said
    arrays = [np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npz")["slice"],
              scipy.io.loadmat(tmp_path / "c.mat")["slice"]]
    assert [clf.predict(a) for a in arrays] == [clf.predict(head)] * 3


def test_a_stack_given_to_predict_is_told_how_python_predicts_each_page(clf, tmp_path):
    """A multi-page TIFF (an ImageJ stack) handed to ``predict``, by name or opened with PIL, was told only to "save
    each slice as its own image"; in Python each page can be passed: predict and explain say how, and doing so gives
    each page's own answer. The CLI's words stay as they were."""
    import re

    import numpy as np
    from PIL import Image, ImageSequence

    from braintumor.heatmap import explain
    from braintumor.image_io import read_image

    pages = [synthetic_head(seed=k) for k in range(3)]
    Image.fromarray(pages[0]).save(tmp_path / "stack.tif", save_all=True,
                                   append_images=[Image.fromarray(p) for p in pages[1:]])
    base = ("a multi-page TIFF: braintumor reads one slice per image file (save each slice as its own image; a stack "
            "of slices: DICOM or NIfTI)")
    with Image.open(tmp_path / "stack.tif") as opened:
        for source, image in ((tmp_path / "stack.tif", "Image.open(file)"), (opened, "image")):
            said = (f"{base}; in Python, predict_many([page.copy() for page in ImageSequence.Iterator({image})]) "
                    "predicts each page (from PIL import Image, ImageSequence)")
            for call in (clf.predict, lambda s: explain(clf, s)):
                with pytest.raises(ImageError, match=f"^{re.escape(said)}$"):
                    call(source)
        answers = [outcome for _, outcome in clf.predict_many([p.copy() for p in ImageSequence.Iterator(opened)])]
    assert answers == [clf.predict(np.asarray(p)) for p in pages]
    with pytest.raises(ImageError, match=f"^{re.escape(base)}$"):  # the CLI's and the web's reader
        read_image(tmp_path / "stack.tif")


def test_an_image_as_base64_text_or_a_data_url_is_told_to_decode_it(clf, tmp_path):
    """A str is a file name; an image's base64 (the web API's ``heatmap_png_base64``, a notebook's or a canvas's data:
    URL) handed over as one was "cannot read file: File name too long" to predict, and to read_volumes "the reader
    failed on it (logged); damaged, or written wrongly by the software that exported it", as if a scan were broken."""
    import base64

    from braintumor.volume_io import read_volumes

    data = encode(synthetic_head())
    text = base64.b64encode(data).decode()
    for source, how in ((text, r"base64\.b64decode\(text\)"),
                        ("data:image/png;base64," + text, r"base64\.b64decode\(url\.partition\(','\)\[2\]\)"),
                        ("#" * 5000, None)):
        said = rf"^not a file name: {len(source)} characters \({re.escape(source[:20])}\.\.\.\), longer " \
               r"than any file name" + (rf"; .* {how} gives the image's bytes, which predict takes$" if how else "$")
        for call in (clf.predict, read_volumes):
            with pytest.raises(ImageError, match=said):
                call(source)
        assert re.match(said, str(next(clf.predict_many([source]))[1]))
    assert clf.predict(base64.b64decode(text)) == clf.predict(data)


def test_an_image_as_base64_bytes_or_a_file_of_them_is_told_to_decode_it(clf, tmp_path):
    """``predict(b64encode(png))`` (a JSON field's text encoded, a file of base64 saved as scan.png) was "not a
    recognised image" to predict and "not a recognised volume" to read_volumes: an image one decoding away."""
    import base64

    from braintumor.volume_io import read_volumes

    data = encode(synthetic_head())
    text = base64.b64encode(data)
    (tmp_path / "scan.png").write_bytes(text + b"\n")
    for source, said in ((text, r"base64 text of a PNG image, not the image's bytes: base64\.b64decode\(data\) "),
                         (b"data:image/png;base64," + text, r"a data: URL of a PNG image, not the image's bytes: "
                                                            r"base64\.b64decode\(data\.partition\(b','\)\[2\]\) "),
                         (str(tmp_path / "scan.png"), r"base64 text of a PNG image")):
        for call in (clf.predict, read_volumes):
            with pytest.raises(ImageError, match="^" + said):
                call(source)
    with pytest.raises(ImageError, match=r"^not a recognised image"):  # text that decodes to no image is not named
        clf.predict(base64.b64encode(bytes(300)))


def test_an_image_as_url_safe_base64_is_told_to_decode_it_as_that(clf):
    """base64url (``-`` and ``_`` for ``+`` and ``/``: Gmail's API gives attachments so, a JWT-style field): a JPEG's
    ('/9j/' is '_9j_') was "not a recognised image", and a PNG's was told ``base64.b64decode(data)``, which drops the
    ``-`` and ``_`` it does not know and gives damaged bytes."""
    import base64

    for data in (encode(synthetic_head()), encode(synthetic_head(), "JPEG")):
        text = base64.urlsafe_b64encode(data)
        assert b"-" in text or b"_" in text
        with pytest.raises(ImageError, match=r"^base64 text of a (PNG|JPEG) image, not the image's bytes: "
                                             r"base64\.urlsafe_b64decode\(data\) gives them"):
            clf.predict(text)
        assert clf.predict(base64.urlsafe_b64decode(text)) == clf.predict(data)


def test_an_image_as_url_safe_base64_in_a_str_is_told_to_decode_it_as_that(clf):
    """The same base64url text held as a str (a JSON field), a file name to predict: it was only "not a file name:
    ... longer than any file name" (its '-' and '_' are no base64 of the hint's), where base64 text was told
    b64decode: it is told ``urlsafe_b64decode``, as its bytes are."""
    import base64

    data = encode(synthetic_head(), "JPEG")
    for text, said in ((base64.urlsafe_b64encode(data).decode(), r"; base64 text\? base64\.urlsafe_b64decode\(text\) "),
                       ("data:image/jpeg;base64," + base64.urlsafe_b64encode(data).decode(),
                        r"; a data: URL\? base64\.urlsafe_b64decode\(url\.partition\(','\)\[2\]\) "),
                       (base64.b64encode(data).decode(), r"; base64 text\? base64\.b64decode\(text\) ")):
        with pytest.raises(ImageError, match=r"^not a file name: .*" + said + "gives the image's bytes"):
            clf.predict(text)


def test_a_long_str_of_base64_characters_that_is_no_image_is_not_told_to_decode_it(clf):
    """Any str over 255 characters of base64's letters (a hash list, a token, base64 of a PDF or of text) was told
    "base64 text? base64.b64decode(text) gives the image's bytes": only text that decodes to an image's start is."""
    import base64

    from braintumor.volume_io import read_volumes

    for text in ("A" * 300, "deadbeef" * 40, base64.b64encode(b"%PDF-1.7 " * 40).decode(),
                 "data:text/plain;base64," + base64.b64encode(b"a report " * 500).decode(),
                 "data:image/png;base64," + "A" * 5000):  # (over 4096 with a '/': "ENAMETOOLONG" of the whole path)
        said = rf"^not a file name: {len(text)} characters \({re.escape(text[:20])}\.\.\.\), longer than any file name$"
        for call in (clf.predict, read_volumes):
            with pytest.raises(ImageError, match=said):
                call(text)
    png = base64.b64encode(encode(synthetic_head())).decode()  # an image's still is
    with pytest.raises(ImageError, match=r"; base64 text\? base64\.b64decode\(text\) gives the image's bytes"):
        clf.predict(png)


def test_a_data_url_shorter_than_a_path_limit_is_told_to_decode_it_not_echoed_as_not_found(clf):
    """A data: URL of a small image (over 255 characters, under 4096) named the folder 'data:image', which is not
    there: "file not found: data:image/png;base64,iVBOR..." and all its text, where a longer one was told to decode
    it. A part of a name over 255 characters names no file either."""
    import base64

    from braintumor.volume_io import read_volumes

    url = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(300)).decode()
    assert 255 < len(url) < 4096
    said = rf"^not a file name: {len(url)} characters \({re.escape(url[:20])}\.\.\.\), longer than any file name; " \
           r"a data: URL\? base64\.b64decode"
    for call in (clf.predict, read_volumes):
        with pytest.raises(ImageError, match=said):
            call(url)
    with pytest.raises(ImageError, match=r"^file not found: "):  # parts of 255 or fewer: a name, not found
        clf.predict("folder/" * 40 + "a.png")


def test_base64_of_text_that_starts_bm_is_not_told_a_bmp_image(clf):
    """A BMP is told by 'BM' alone: base64 of any text starting 'BM' ('BMI report', 'BMW ...': 'Qk1J', 'Qk1X') was
    "base64 text of a BMP image"; a BMP's DIB header size (bytes 14-17, within the 24 characters read) tells it."""
    import base64

    for text in (b"BMI report of the patient", b"BMW 320d, 2019, 45000 km"):
        with pytest.raises(ImageError, match=r"^not a recognised image"):
            clf.predict(base64.b64encode(text))
    with pytest.raises(ImageError, match=r"^base64 text of a BMP image"):  # a real BMP's still is
        clf.predict(base64.b64encode(encode(synthetic_head(), "BMP")))


def test_a_stream_left_partway_by_an_earlier_read_is_told_to_seek_to_its_start(clf, tmp_path):
    """``Image.open(f)`` (to see an image's size first) reads its header and leaves ``f`` partway; ``predict(f)`` then
    read from there and said "not a recognised image" of a good file. It is read from where it stands still (a stream
    may start an image partway through), and told where that was and to seek(0)."""
    import io

    from PIL import Image

    path = tmp_path / "a.png"
    path.write_bytes(encode(synthetic_head()))
    with open(path, "rb") as f:
        assert Image.open(f).size == (200, 200)
        at = f.tell()
        assert at > 0
        said = rf"^not a recognised image: .* \(read from position {at} of the stream, where a read before this one "
        with pytest.raises(ImageError, match=said + r"left it: seek\(0\) reads it from its start"):
            clf.predict(f)
        f.seek(0)
        assert clf.predict(f) == clf.predict(path)
    stream = io.BytesIO(b"header" + path.read_bytes())
    stream.seek(6)
    assert clf.predict(stream) == clf.predict(path)  # an image that starts partway through is read from there
    stream.seek(3)
    [(_, outcome)] = clf.predict_many([stream])
    assert "(read from position 3 of the stream" in str(outcome)


class _SocketStream(io.RawIOBase):
    """A stream that tells how much was read, as urllib3's ``HTTPResponse.raw`` does (a socket's), and cannot seek."""

    def __init__(self, data: bytes) -> None:
        self.inner, self.read_so_far = io.BytesIO(data), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.inner.readinto(buffer)
        self.read_so_far += count
        return count

    def tell(self) -> int:
        return self.read_so_far


def test_a_stream_that_cannot_seek_is_not_told_to_seek(clf, tmp_path):
    """A stream that tells its position but cannot seek (a socket's, as urllib3's ``response.raw``), left partway by
    an earlier read, was told "seek(0) reads it from its start", which raises there: it is told to open it again."""

    data = encode(synthetic_head())

    stream = _SocketStream(data)
    stream.read(50)
    with pytest.raises(ImageError, match=r"\(read from position 50 of the stream, where a read before this one left "
                                         r"it: opening it again \(it cannot seek\) reads it from its start\)"):
        clf.predict(stream)


def test_a_stream_that_cannot_seek_read_to_its_end_is_not_told_to_seek(clf):
    """The same stream (a socket's, urllib3's ``response.raw``) read to its end, then predicted (a second predict of
    it), was told "seek(0) after writing it", which raises there: it is told to open it again; a BytesIO still seeks."""
    import io

    data = encode(synthetic_head())

    stream = _SocketStream(data)
    stream.read()
    with pytest.raises(ImageError, match=rf"^nothing left to read: the stream is at its end \(position {len(data)}\); "
                                         r"open it again: it cannot seek$"):
        clf.predict(stream)
    written = io.BytesIO(data)
    written.seek(0, io.SEEK_END)
    with pytest.raises(ImageError, match=r"; seek\(0\) after writing it$"):
        clf.predict(written)
