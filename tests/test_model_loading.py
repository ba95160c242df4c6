"""Model files that load must be usable: a graph that disagrees with its own metadata is refused at load time."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from conftest import extra_reason

from braintumor.model_files import ModelError
from braintumor.predictor import Classifier


@pytest.mark.parametrize(("updates", "said"), [
    ({"classes": ["a", "b", "c", "d", "e"]}, "does not give 5 class scores"),
    ({"preprocess": {"image_size": 48}}, "does not take one (N, 1, 48, 48) image batch"),
    ({"preprocess": {"image_size": "x"}}, "does not take one (N, 1, x, x) image batch"),
])
def test_a_graph_unlike_its_metadata_is_refused_when_loaded(tiny_model, tmp_path, updates, said):
    """Such a file loaded, then every prediction failed inside ONNX Runtime ('Invalid rank for input', a bare
    TypeError) or came back with the wrong class names."""
    pytest.importorskip("onnx", reason=extra_reason("onnx"))
    from braintumor.calibrate import write_metadata

    assert Classifier.load(tiny_model).predict(np.full((64, 64), 100, np.uint8)).probabilities  # the original works
    model = tmp_path / "m.onnx"
    shutil.copy(tiny_model, model)
    write_metadata(model, updates)
    with pytest.raises(ModelError) as err:
        Classifier.load(model)
    assert str(err.value) == f"{model} cannot be used: its graph {said}, as its metadata says"


def _shipped_copy(tmp_path, classes=..., drop=False):
    """The shipped model, copied, with its metadata's classes replaced (or dropped)."""
    import json

    onnx = pytest.importorskip("onnx", reason=extra_reason("onnx"))
    from braintumor.model_files import default_model_path
    from braintumor.model_loading import METADATA_KEY

    proto = onnx.load_model(str(default_model_path()))
    entry = next(p for p in proto.metadata_props if p.key == METADATA_KEY)
    meta = json.loads(entry.value)
    meta.pop("classes") if drop else meta.update({} if classes is ... else {"classes": classes})
    entry.value = json.dumps(meta)
    model = tmp_path / "m.onnx"
    onnx.save_model(proto, str(model))
    return model


@pytest.mark.parametrize(("change", "said"), [
    ({"drop": True}, "its metadata names no 'classes' (the labels of its scores, in order): export it again"),
    ({"classes": None}, "its metadata names no 'classes' (the labels of its scores, in order): export it again"),
    ({"classes": "abcd"}, "its metadata's 'classes' must be a list of class names, got \"abcd\""),
    ({"classes": [1, 2, 3, 4]}, "its metadata's 'classes' must be a list of class names, got [1, 2, 3, 4]"),
    ({"classes": ["a", "", "b", "c"]}, "its metadata's 'classes' must be a list of class names, got [\"a\", \"\", "
                                       "\"b\", \"c\"]"),
    ({"classes": ["a", "a", "b", "c"]}, "its metadata's 'classes' name a class twice: [\"a\", \"a\", \"b\", \"c\"]"),
])
def test_a_model_whose_classes_cannot_label_its_scores_is_refused_when_loaded(tmp_path, change, said):
    """Without classes a file loaded as the four, whatever it scored; "abcd", [1, 2, 3, 4] or duplicates labelled
    every prediction with them."""
    model = _shipped_copy(tmp_path, **change)
    with pytest.raises(ModelError) as err:
        Classifier.load(model)
    assert str(err.value) == f"{model} cannot be used: {said}"



def test_a_graph_of_a_fixed_batch_size_is_refused_when_loaded(tmp_path, capsys):
    """A graph exported for batches of exactly one image (a fixed first dimension) loaded, then ``evaluate`` and
    ``predict`` of two images ended in ONNX Runtime's 'Got invalid dimensions for input' traceback."""
    onnx = pytest.importorskip("onnx", reason=extra_reason("onnx"))

    model = _shipped_copy(tmp_path)
    proto = onnx.load_model(str(model))
    proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    onnx.save_model(proto, str(model))
    said = (f"{model} cannot be used: its graph takes batches of exactly 1 image, not any number (N): export it "
            "again with a dynamic batch dimension")
    _refused_by_load_and_predict(model, said, tmp_path, capsys)


def test_a_graph_taking_float16_images_is_refused_when_loaded(tiny_model, tmp_path, capsys):
    """A model converted to float16 (its input too) loaded, then ``evaluate`` and ``predict`` ended in ONNX Runtime's
    'Unexpected input data type' traceback: the images are given as float32."""
    onnx = pytest.importorskip("onnx", reason=extra_reason("onnx"))
    from onnx import TensorProto, helper


    exported = onnx.load_model(str(tiny_model))  # its metadata: uncalibrated, no outputs named beside the logits
    nodes = [helper.make_node("Cast", ["image"], ["c"], to=TensorProto.FLOAT),
             helper.make_node("GlobalAveragePool", ["c"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("MatMul", ["f", "w"], ["logits"])]
    graph = helper.make_graph(nodes, "half", [helper.make_tensor_value_info("image", TensorProto.FLOAT16,
                                                                            ["batch", 1, 64, 64])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4])],
                              initializer=[helper.make_tensor("w", TensorProto.FLOAT, [1, 4], [0.1] * 4)])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    proto.metadata_props.extend(exported.metadata_props)
    model = tmp_path / "half.onnx"
    onnx.save_model(proto, str(model))
    said = (f"{model} cannot be used: its graph takes images of tensor(float16), not the float32 ones it is given "
            "(a float16 conversion?): use the float32 model 'braintumor export' wrote")
    _refused_by_load_and_predict(model, said, tmp_path, capsys)


def test_a_model_file_the_user_may_not_read_is_said_so(tmp_path, monkeypatch, capsys):
    """A model mounted into the image (uid 10001) that only its owner may read was 'not a valid ONNX file, or one this
    onnxruntime cannot run (damaged, cut short, or made for a newer version)': onnxruntime opens the file itself and
    says nothing of permissions. The denial is simulated (the tests may run as root, whom permissions do not stop)."""
    import builtins

    from braintumor.cli import main
    from braintumor.model_files import default_model_path

    model = tmp_path / "my.onnx"
    shutil.copy(default_model_path(), model)
    real_open = builtins.open

    def denying_open(file, *args, **kwargs):
        if str(file) == str(model):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denying_open)
    said = f"cannot read model {model}: Permission denied (the user running braintumor must be able to read it)"
    with pytest.raises(ModelError) as err:
        Classifier.load(model)
    assert str(err.value) == said
    assert main(["serve", "--model", str(model), "--port", "1"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {said}"


def test_an_empty_model_file_is_said_to_be_empty(tmp_path, capsys):
    """A 0-byte model (a copy or download that did not finish, a `touch`) was 'not a valid ONNX file, or one this
    onnxruntime cannot run (damaged, cut short, or made for a newer version)'."""

    model = tmp_path / "model.onnx"
    model.touch()
    said = f"cannot load model {model}: the file is empty (0 bytes: a copy or download that did not finish?)"
    _refused_by_load_and_predict(model, said, tmp_path, capsys)


def _zip(names: list[str], cut: bool = False) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            zf.writestr(name, b"x" * 64)
    data = buf.getvalue()
    return data[: len(data) // 2] if cut else data


@pytest.mark.parametrize(("data", "checkpoint"), [
    (_zip(["best/data.pkl", "best/data/0", "best/version"]), True),  # as torch.save writes it
    (_zip(["best/data.pkl", "best/data/0", "best/version"], cut=True), True),  # cut short: its head still says so
    (_zip(["best/data/0", "best/data.pkl"]), True),  # data.pkl not first: the listing says so
    (_zip([*(f"best/data/{i}" for i in range(5000)), "best/data.pkl"]), False),  # a listing past MAX_ZIP_MEMBERS
    (_zip(["scans/a.txt"]), False),
], ids=["saved", "cut-short", "data.pkl-later", "listing-past-limit", "other-zip"])
def test_a_model_file_is_known_as_a_torch_checkpoint_by_the_rule_its_bytes_are(tmp_path, data, checkpoint):
    """One rule (checkpoint_inputs.torch_zip) for a checkpoint given as the model and as an input's bytes: the
    model's own (a zipfile listing of the file) read any directory whole, and missed one cut short that its head
    names."""
    from braintumor.checkpoint_inputs import torch_zip

    assert torch_zip(data) is checkpoint
    model = tmp_path / "weights.bin"
    model.write_bytes(data)
    with pytest.raises(ModelError) as err:
        Classifier.load(model)
    assert ("a torch checkpoint, not an ONNX model" in str(err.value)) is checkpoint, err.value


def test_a_damaged_model_is_not_read_whole_to_say_it_is_no_checkpoint(tmp_path):
    """A failed load asks whether the file is a torch checkpoint: a damaged ONNX file (no zip) of up to 512 MB was
    read whole, and copied once more, for that question (1 GB of memory for a 500 MB model), where its head says no."""
    model = tmp_path / "model.onnx"
    with open(model, "wb") as f:
        f.write(b"\x08\x07\x12\x07pytorch")  # as an ONNX file (a protobuf) begins
        f.truncate(32 * 1024 * 1024)  # sparse: no disk taken
    found, peak = _torch_file_peak(model)
    assert found is False and peak < 1024 * 1024, peak


@pytest.mark.parametrize(("names", "checkpoint"), [
    (["slices/a.jpg", "slices/b.jpg"], False),  # a zip of JPEGs given where the model goes
    (["best/data/0", "best/data.pkl", "best/version"], True),  # a checkpoint whose data.pkl is not its first entry
], ids=["zip-of-images", "data.pkl-later"])
def test_a_zip_is_told_from_a_checkpoint_by_its_directory_alone(tmp_path, names, checkpoint):
    """Past a zip's head, whether it is a torch checkpoint (a ``*/data.pkl`` member) is in its central directory: a zip
    of up to 512 MB that is none (scans, JPEGs) was read whole for that, 16 MB of members here; now its end and its
    directory alone are read."""
    import zipfile

    model = tmp_path / "given.pt"
    with zipfile.ZipFile(model, "w", zipfile.ZIP_STORED) as zf:
        for name in names:
            zf.writestr(name, bytes(8 * 1024 * 1024) if not name.endswith(("data.pkl", "version")) else b"x")
    found, peak = _torch_file_peak(model)
    assert found is checkpoint and peak < 1024 * 1024, peak


def _torch_file_peak(path) -> tuple[bool, int]:
    """What torch_file says of ``path``, and the most memory Python held while it read it."""
    import tracemalloc

    from braintumor.checkpoint_inputs import torch_file

    tracemalloc.start()
    try:
        return torch_file(path), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_model_files_bytes_given_to_load_are_told_to_be_saved_not_echoed():
    """``Classifier.load(response.content)`` (a model downloaded into memory) took the bytes as a file name: "model file
    not found: " followed by the whole model, megabytes of binary in one message. A name holds no NUL; a file's
    content does."""
    from braintumor.model_files import default_model_path

    data = default_model_path().read_bytes()
    with pytest.raises(TypeError) as caught:
        Classifier.load(data)
    said = str(caught.value)
    assert said == (f"Classifier.load takes a model file's path, not the file's content ({len(data)} bytes): save "
                    "them to a file and pass its name")
    with pytest.raises(FileNotFoundError, match=r"model file not found: no-such\.onnx"):
        Classifier.load(b"no-such.onnx")  # a name as bytes is still a name


@pytest.mark.parametrize("how", ["env", "argument"])
def test_a_blank_model_name_is_shown_quoted_not_as_nothing(monkeypatch, how):
    """``BRAINTUMOR_MODEL=" "`` (or ``Classifier.load(" ")``) said "model file not found:  , named by
    $BRAINTUMOR_MODEL": a name that showed as nothing. Shown quoted, as the image readers show such names."""
    monkeypatch.setenv("BRAINTUMOR_MODEL", " ")
    with pytest.raises(FileNotFoundError) as caught:
        Classifier.load() if how == "env" else Classifier.load(" ")
    named = ", named by $BRAINTUMOR_MODEL" if how == "env" else ""
    assert str(caught.value).startswith(f"model file not found: ' '{named} (train and export one")


def test_the_cli_reference_says_what_a_model_file_is_checked_for_when_loaded():
    """docs/CLI.md's --model paragraph said nothing of the graph checks made when a model is loaded (today's fixed
    batch and float16 refusals among them): a user given 'error: ... cannot be used' found no word of it there."""
    from conftest import REPO

    text = " ".join((REPO / "docs" / "CLI.md").read_text().split())
    for said in ("float32 images of shape (N, 1, S, S) for any number N", "a float16 conversion or an export for a "
                 "fixed batch", "one score per class", "exit status 2, not an ONNX Runtime traceback"):
        assert said in text


def _refused_by_load_and_predict(model, said: str, folder, capsys) -> None:
    """``model`` refused with ``said`` by ``Classifier.load`` (a ModelError) and by ``braintumor predict`` (one error
    line, exit 2)."""
    from braintumor.cli import main

    with pytest.raises(ModelError) as err:
        Classifier.load(model)
    assert str(err.value) == said
    assert main(["predict", str(folder), "--model", str(model)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {said}"


@pytest.mark.parametrize("how", ["env", "argument"])
@pytest.mark.parametrize("name, said", [
    # a bare OSError, "[Errno 36] File name too long: 'xxx...'", and all 5000 characters
    ("x" * 5000, r"not a file name: 5000 characters \(x{20}\.\.\.\), longer than any file name"),
    # "model file not found: a", a NUL and "b", the NUL printed raw
    ("a\0b.onnx", r"not a file name: it holds a NUL character \(\\0\), which no file name can hold .*"),
])
def test_a_model_name_no_file_can_have_is_refused_in_words(monkeypatch, how, name, said):
    """``Classifier.load`` (documented to raise FileNotFoundError or ModelError) raised OSError for a name too long
    for any file, and echoed a NUL as it was; $BRAINTUMOR_MODEL too, and the CLI's --model said "error: File name too
    long: " and the 5000 characters."""
    if how == "env":
        if "\0" in name:
            pytest.skip("no environment variable holds a NUL")
        monkeypatch.setenv("BRAINTUMOR_MODEL", name)
    with pytest.raises(FileNotFoundError) as caught:
        Classifier.load(None if how == "env" else name)
    env = r" \(\$BRAINTUMOR_MODEL\)" if how == "env" else ""
    assert re.fullmatch(f"{said}{env}: pass a model file's name \\(Classifier\\.load\\(path\\)\\)", str(caught.value))
    assert re.fullmatch(f"{said}{env}: pass a model file's name \\(--model FILE\\)", caught.value.cli_text)
