"""A model whose scores come out NaN or infinite for a finite image (a damaged or wrongly converted file) is said to be
at fault, as a ModelError naming the image: classify raised prediction_from_probs' ValueError partway through ("takes
probabilities in [0, 1] ..., not nan"), the CLI printed it as if the call were wrong, and the web app answered its
generic 500."""

from __future__ import annotations

import io
import json
import pickle

import numpy as np
import pytest
from conftest import extra_reason

from braintumor.image_io import ImageError
from braintumor.model_files import ModelError
from braintumor.model_scores import NonFiniteScores
from braintumor.predictor import Classifier

CLASSES = ["glioma", "meningioma", "notumor", "pituitary"]


def _model(tmp_path, bias: float):
    """A hand-made model of 64 x 64 images: logits = log(mean level) * (1, 2, 3, 4) + (bias, 0, 0, 0), so -inf for an
    all-black input and inf for every image where ``bias`` is."""
    onnx = pytest.importorskip("onnx", reason=extra_reason("onnx"))
    from onnx import TensorProto, helper

    from braintumor.model_loading import METADATA_KEY

    nodes = [helper.make_node("GlobalAveragePool", ["image"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Log", ["f"], ["l"]), helper.make_node("MatMul", ["l", "w"], ["m"]),
             helper.make_node("Add", ["m", "b"], ["logits"])]
    graph = helper.make_graph(nodes, "scores", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                              ["batch", 1, 64, 64])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4])],
                              initializer=[helper.make_tensor("w", TensorProto.FLOAT, [1, 4], [1.0, 2.0, 3.0, 4.0]),
                                           helper.make_tensor("b", TensorProto.FLOAT, [4], [bias, 0.0, 0.0, 0.0])])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    helper.set_model_props(proto, {METADATA_KEY: json.dumps({"classes": CLASSES, "preprocess": {"image_size": 64}})})
    path = tmp_path / f"scores{bias}.onnx"
    onnx.save_model(proto, str(path))
    return path


def test_classify_names_the_image_whose_scores_are_not_finite_as_the_models_fault(tmp_path):
    model = _model(tmp_path, 0.0)
    clf = Classifier.load(model, threads=1)
    batch = np.full((3, 1, 64, 64), 0.5, np.float32)
    assert [p.label for p in clf.classify(batch)[0]] == ["glioma"] * 3  # finite scores: answered (log 0.5 < 0)
    batch[1] = 0.0  # log(0): -inf
    with pytest.raises(ModelError) as err:
        clf.classify(batch)
    assert str(err.value) == (f"the model {model} gave scores that are not finite (NaN or infinite) for image 1: a "
                              "damaged model file, or one converted wrongly; export it again")
    again = pickle.loads(pickle.dumps(err.value))  # as a predict --workers process sends it
    assert type(again) is NonFiniteScores and str(again) == str(err.value)


def test_predict_many_names_the_image_by_its_file_or_its_place_among_the_images(tmp_path, test_images):
    """Its outcome, not raised: an ImageError to a loop that tells answers from errors, the batch's others answered
    (tests/test_model_scores_per_file.py)."""
    clf = Classifier.load(_model(tmp_path, float("inf")), threads=1)
    good = test_images["glioma"][0]
    outcomes = [o for _, o in clf.predict_many([good, tmp_path / "missing.jpg", good], batch_size=2)]
    assert all(isinstance(o, ImageError) for o in outcomes)
    assert [isinstance(o, NonFiniteScores) for o in outcomes] == [True, False, True]
    assert f"not finite (NaN or infinite) for {good}: " in str(outcomes[2])
    outcomes = [o for _, o in clf.predict_many([b"x", b"x", b"x", good.read_bytes()], batch_size=2)]
    assert isinstance(outcomes[3], NonFiniteScores) and "for image 3: " in str(outcomes[3])  # the second batch's row 0
    again = pickle.loads(pickle.dumps(outcomes[3]))  # as a predict --workers process sends it
    assert type(again) is type(outcomes[3]) and str(again) == str(outcomes[3])


def test_the_cli_says_the_model_is_at_fault_in_the_files_record_and_goes_on(tmp_path, test_images, capsys):
    """It stopped at the first such file (exit 2), writing no record of the others."""
    import shutil

    from braintumor.cli import main

    model = _model(tmp_path, float("inf"))
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(test_images["glioma"][0], folder / "a.jpg")
    said = (f"the model {model} gave scores that are not finite (NaN or infinite) for {folder / 'a.jpg'}: a "
            "damaged model file, or one converted wrongly; export it again")
    out = tmp_path / "results.jsonl"
    assert main(["predict", str(folder), "--model", str(model), "--no-progress", "-o", str(out)]) == 1
    assert json.loads(out.read_text()) == {"path": str(folder / "a.jpg"), "error": said}
    assert main(["predict", str(folder), "--model", str(model), "--no-progress"]) == 1
    assert f"error: {said}" in capsys.readouterr().out  # the table's row


@pytest.mark.parametrize("heatmap", [False, True])
def test_the_cli_names_the_file_whose_scores_are_not_finite_not_its_place_in_a_batch(heatmap, tmp_path, test_images,
                                                                                       monkeypatch, capsys):
    """b.jpg, the second of a folder's images, said "for image 1" (its place among a run of images), and with
    --heatmap "for image 0" (its place in its batch): the user could not tell which file. Said in its record."""
    import shutil

    from braintumor import predictor
    from braintumor.cli import main

    folder = tmp_path / "images"
    folder.mkdir()
    for name, source in zip("abc", test_images["glioma"], strict=True):
        shutil.copy(source, folder / f"{name}.jpg")
    check, calls = predictor.check_scores, []

    def nan_on_the_second_run(logits, model):
        calls.append(len(logits))
        return check(np.full_like(logits, np.nan) if len(calls) == 2 else logits, model)

    monkeypatch.setattr(predictor, "check_scores", nan_on_the_second_run)
    command = ["predict", str(folder), "--batch-size", "1", "--no-progress", "--format", "jsonl"]
    assert main(command + (["--heatmap", str(tmp_path / "maps")] if heatmap else [])) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert f"not finite (NaN or infinite) for {folder / 'b.jpg'}: " in records[1]["error"], records
    assert "label" in records[0] and "label" in records[2]  # the others answered


def test_the_web_app_answers_a_503_that_says_the_model_failed(tmp_path, test_images):
    from braintumor.web import create_app
    from braintumor.web.model_failures import MODEL_FAILED

    client = create_app(classifier=Classifier.load(_model(tmp_path, float("inf")), threads=1)).test_client()
    data = test_images["glioma"][0].read_bytes()
    for query in ("", "?heatmap=1"):
        r = client.post(f"/api/v1/predict{query}", data={"file": [(io.BytesIO(data), "a.jpg")]},
                        content_type="multipart/form-data")
        assert (r.status_code, r.get_json()) == (503, {"error": MODEL_FAILED,
                                                       "results": [{"path": "a.jpg", "error": MODEL_FAILED}]})
    page = client.post("/", data={"file": [(io.BytesIO(data), "a.jpg")]}, content_type="multipart/form-data")
    assert page.status_code == 503 and "The server&#39;s model gave scores that are not finite" in page.text


def test_the_line_blaming_the_model_shows_its_name_and_the_outputs_escaped(tmp_path, test_images, capsys):
    """The last line on stderr, 'error: the model MODEL gave scores that are not finite ...; run ... -o FILE', printed
    MODEL and FILE raw: a name's escape sequence cleared the terminal, as no other line of the CLI lets it."""
    from braintumor.cli import main

    model = tmp_path / "m\x1b[2J.onnx"
    _model(tmp_path, float("inf")).rename(model)
    out = tmp_path / "o\x1b]0;t\x07.jsonl"
    assert main(["predict", str(test_images["glioma"][0]), "--model", str(model), "--no-progress", "-o",
                 str(out)]) == 1
    err = capsys.readouterr().err
    assert "gave scores that are not finite" in err and "m\\x1b[2J.onnx" in err
    assert "\x1b" not in err and "\x07" not in err, err
