"""The Python API takes what its users hold: files, bytes, streams, numpy arrays and PIL images.

Anything unusable gets a precise error, and a mistaken type a TypeError that names it; the probabilities shown are
the calibrated ones. Arrays and PIL images (an image in memory gets the answer a file of the same pixels gets) are in
tests/test_python_api_arrays.py."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import encode, synthetic_head
from dicom_factory import make_dicom, nifti_bytes, zip_bytes
from PIL import Image

from braintumor import Classifier, ImageError
from braintumor.heatmap import explain
from braintumor.image_io import read_image
from braintumor.prediction import probability_text


def test_predict_many_streams_one_batch_at_a_time(clf):
    """Answers come as each batch is scored: a folder of 100 000 images is not held in memory until the end."""
    pulled = []

    def sources():
        for seed in range(5):
            pulled.append(seed)
            yield synthetic_head(64, seed=seed)

    stream = clf.predict_many(sources(), batch_size=2)
    next(stream)
    assert pulled == [0, 1]
    assert len(list(stream)) == 4 and pulled == [0, 1, 2, 3, 4]


def test_what_is_not_an_image_source_is_a_type_error_naming_it(clf, tmp_path):
    (tmp_path / "a.jpg").write_bytes(encode(synthetic_head(), "JPEG"))
    with pytest.raises(TypeError, match="not list"):
        clf.predict([tmp_path / "a.jpg"])
    with pytest.raises(TypeError, match="not NoneType"):
        clf.predict(None)
    # utf-8 failed inside read() with a UnicodeDecodeError; a text file (an iterator of lines) was also told
    # "predict_many(images) predicts each of several", as if it were several images
    text_mode = r"^the file was opened in text mode: open it with 'rb'$"
    for encoding in ("latin-1", "utf-8"):
        with open(tmp_path / "a.jpg", encoding=encoding) as text, pytest.raises(TypeError, match=text_mode):
            clf.predict(text)
    for call in (clf.predict, lambda text: explain(clf, text)):  # a text stream that is not a file
        with pytest.raises(TypeError, match=text_mode):
            call(io.StringIO("abc"))
    # raised at the call, not at the first next(): a str would be read one character per file name
    with pytest.raises(TypeError, match="iterable of images"):
        clf.predict_many(str(tmp_path))
    with pytest.raises(TypeError, match="iterable of images"):
        clf.predict_many(synthetic_head())
    with pytest.raises(TypeError, match=r"a stack of slices in one \(N, H, W\) array list\(stack\)"):
        clf.predict_many(np.stack([synthetic_head()] * 3))  # the message said only "for one image use predict()"


def test_a_scan_given_to_the_2d_reader_says_how_to_read_it():
    head = synthetic_head(64)
    scans = [
        ("a DICOM file", make_dicom(head)),
        ("a NIfTI volume", nifti_bytes(np.stack([head] * 3, axis=-1), gz=False)),
        ("a NIfTI volume", nifti_bytes(np.stack([head] * 3, axis=-1), gz=True)),
        ("a zip file", zip_bytes([("a.dcm", make_dicom(head))])),
    ]
    for kind, data in scans:
        with pytest.raises(ImageError, match=f"^{kind}.*read_volumes"):
            read_image(data)
    with pytest.raises(ImageError, match=r"^not a recognised image"):
        read_image(b"just some text, not a scan" * 20)


def test_probabilities_are_shown_to_a_tenth_of_a_percent_but_never_as_certain():
    values = (1.0, 0.99951, 0.9991, 0.999, 0.99, 0.989837, 0.989, 0.5, 0.4999, 0.0123, 0.011, 0.0011, 0.001, 0.00099,
              0.0)
    shown = [probability_text(p) for p in values]
    # towards 50 %: a 98.98 % answer flagged "under 99 %" is shown as 98.9 %, never as 99.0 %
    assert shown == [">99.9%", ">99.9%", ">99.9%", "99.9%", "99.0%", "98.9%", "98.9%", "50.0%", "50.0%", "1.3%",
                     "1.1%", "0.2%", "0.1%", "<0.1%", "<0.1%"]


def test_the_classifier_sees_what_training_prepared(clf, test_images, tmp_path):
    """Training caches prepare(path) (a JPEG decoded at about twice the model's input size); the Classifier decodes the
    file itself, for the colour check, and must arrive at the very same input (a 700 px JPEG: libjpeg's scaling)."""
    from braintumor.preprocess import preprocess

    big = tmp_path / "big.jpg"
    big.write_bytes(encode(synthetic_head(700), "JPEG"))
    for path in [big] + [paths[0] for paths in test_images.values()]:
        np.testing.assert_array_equal(clf.preprocess(path), preprocess(path, clf.preprocess_config))


def test_probabilities_are_the_softmax_of_the_logits_at_the_stored_temperature(clf, test_images):
    """What a user reads is calibrated: the logits divided by the model's fitted temperature, then softmax."""
    paths = [p for ps in test_images.values() for p in ps]
    batch = np.stack([clf.preprocess(p) for p in paths])
    logits = clf.run(batch)[0].astype(np.float64) / clf.metadata["temperature"]
    assert clf.metadata["temperature"] != 1.0
    want = np.exp(logits - logits.max(axis=1, keepdims=True))
    want /= want.sum(axis=1, keepdims=True)
    for path, row in zip(paths, want, strict=True):
        pred = clf.predict(path)
        np.testing.assert_allclose(list(pred.probabilities.values()), row, atol=2e-6)
        assert list(pred.probabilities) == list(clf.classes) == ["glioma", "meningioma", "notumor", "pituitary"]
        assert pred.confidence == pytest.approx(row.max(), abs=2e-6) or pred.ood


def test_a_stream_over_the_size_limit_is_refused(monkeypatch):
    import braintumor.image_io as image_io

    data = encode(synthetic_head(64))
    monkeypatch.setattr(image_io, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(ImageError, match=f"larger than the limit of {len(data) - 1} bytes"):
        read_image(io.BytesIO(data))
    monkeypatch.setattr(image_io, "MAX_FILE_BYTES", len(data))
    assert read_image(io.BytesIO(data)).shape == (64, 64)


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    """The README's Python API block, run as it stands, on files of the names it uses."""
    from conftest import DATA_ROOT, REPO
    from dicom_factory import series

    readme = (REPO / "README.md").read_text()
    block = readme.split("## Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    head = synthetic_head(200, canvas=(224, 224), offset=(12, 12))
    real = DATA_ROOT / "Testing" / "glioma" / "Te-gl_0010.jpg"  # accepted, so the heat map is drawn (if present)
    (tmp_path / "scan.jpg").write_bytes(real.read_bytes() if real.is_file() else encode(head, "JPEG"))
    (tmp_path / "a.jpg").write_bytes(encode(head, "JPEG"))
    (tmp_path / "b.png").write_bytes(encode(head))
    (tmp_path / "series.zip").write_bytes(zip_bytes(series([head, head, head])))
    monkeypatch.chdir(tmp_path)
    assert "predict(s.pixels)" not in block  # a slice's pixels alone lose its DICOM modality: CT was classified
    exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 + 1 + 2 + 3  # the answer, whether it was refused as on its side, two files, three slices
    accepted = Classifier.load().predict(tmp_path / "scan.jpg").label is not None
    assert (tmp_path / "scan.heatmap.png").exists() == accepted and accepted == real.is_file()


def test_api_findings_of_a_python_user(clf, tmp_path):
    """What a researcher ran into from Python (each was a traceback, a wrong answer or a misleading message)."""
    import braintumor
    from braintumor.image_io import expand_inputs, read_image

    assert braintumor.ModelError is not None and set(braintumor.__all__) <= set(dir(braintumor))  # `import *` failed
    png = encode(synthetic_head(), "PNG")
    with pytest.raises(TypeError, match=r"^expected a path, bytes or a binary file, not ndarray$"):
        read_image(synthetic_head())  # it listed arrays and PIL images, which read_image does not take
    with pytest.raises(TypeError, match="a numpy array, a PIL image or a scan's Slice, not NoneType"):
        clf.predict(None)  # predict does take them, and says so
    with pytest.raises(TypeError, match=r"expand_inputs\(\[folder\]\)"):
        expand_inputs(str(tmp_path))  # a str was split into one 'path' per character
    (tmp_path / "a.png").write_bytes(png)
    with open(tmp_path / "a.png", "rb") as fh, pytest.raises(TypeError, match="iterable of images"):
        clf.predict_many(fh)  # a file object was iterated line by line, each line an 'image'
    with pytest.raises(TypeError, match="iterable of images"):
        clf.predict_many(memoryview(png))
    bilevel = Image.fromarray(synthetic_head()).convert("1")  # 0/1, not 0/255: read as a blank image
    assert np.array_equal(np.unique(read_image(encode(np.asarray(bilevel.convert("L")), "PNG"))), [0, 255])
    buf = io.BytesIO()
    bilevel.save(buf, "PNG")
    assert set(np.unique(read_image(buf.getvalue()))) == {0, 255}
    assert clf.predict(bilevel) == clf.predict(buf.getvalue())


def test_read_volumes_takes_every_bytes_like_type():
    from dicom_factory import make_dicom

    from braintumor.volume_io import read_volumes

    data = make_dicom(synthetic_head(64))
    expected = read_volumes(data)[0].slices[0].pixels
    for source in (bytearray(data), memoryview(data)):  # were 'this scan could not be read (TypeError)'
        assert np.array_equal(read_volumes(source)[0].slices[0].pixels, expected)


def test_kept_predict_many_errors_do_not_keep_the_failed_files_alive(clf, tmp_path):
    """An ImageError kept its traceback and the decoder's exception as context, whose frames held the whole failed
    file: 100 kept errors of a 4 MB file grew the process by ~400 MB."""
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\0junk" * 200_000)
    ((_, err),) = list(clf.predict_many([junk]))
    assert isinstance(err, ImageError) and str(err).startswith("not a recognised image")
    assert err.__traceback__ is None and err.__context__ is None and err.__cause__ is None


def test_classifier_settings_are_checked_by_name(clf):
    from braintumor.model_loading import MAX_THREADS

    for bad in (0, -1, 1.5, "2", True, MAX_THREADS + 1):  # 1.5 was a raw pybind error, 1000 started 1000 threads
        with pytest.raises(ValueError, match=r"^threads must be a whole number from 1 to 256"):
            Classifier.load(threads=bad)
    for bad in (0, -1, None, 2.0):  # 0 and -1 were taken as 1; None failed on first use
        with pytest.raises(ValueError, match=r"^batch_size must be a whole number of at least 1"):
            clf.predict_many([], batch_size=bad)


def test_the_readme_python_api_says_which_model_load_opens_and_that_a_prediction_is_not_hashable(
        clf, monkeypatch):
    """Its comment said ``Classifier.load()  # the shipped model``, where $BRAINTUMOR_MODEL comes first; and that a
    Prediction is "frozen and compared by value", where ``hash(pred)`` raises TypeError (deliberately: see its
    docstring)."""
    from conftest import REPO

    section = REPO.joinpath("README.md").read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    said = " ".join(section.split())
    assert "Classifier.load() # $BRAINTUMOR_MODEL, else the shipped model;" in said
    monkeypatch.setenv("BRAINTUMOR_MODEL", "braintumor-tumornet-s-int8.onnx")  # a shipped one, not the default
    assert Classifier.load().path.name == "braintumor-tumornet-s-int8.onnx" != clf.path.name
    assert "A `Prediction` is frozen and compared by value, but not hashable (`hash(pred)` raises TypeError" in said
    pred = clf.predict(encode(synthetic_head()))
    with pytest.raises(TypeError):
        hash(pred)
