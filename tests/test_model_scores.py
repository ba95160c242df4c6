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


def test_predict_many_names_the_image_by_its_place_among_the_images(tmp_path, test_images):
    clf = Classifier.load(_model(tmp_path, float("inf")), threads=1)
    good = test_images["glioma"][0]
    answers = clf.predict_many([good, tmp_path / "missing.jpg", good], batch_size=2)
    with pytest.raises(NonFiniteScores, match="for image 0: "):
        next(answers)
    missing = tmp_path / "missing.jpg"
    answers = clf.predict_many([missing, missing, missing, good], batch_size=2)
    assert [isinstance(next(answers)[1], Exception) for _ in range(2)] == [True, True]  # the first batch's
    with pytest.raises(NonFiniteScores, match="for image 3: "):  # the second batch's row 0
        next(answers)


def test_the_cli_says_the_model_is_at_fault_in_one_line(tmp_path, test_images, capsys):
    import shutil

    from braintumor.cli import main

    model = _model(tmp_path, float("inf"))
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(test_images["glioma"][0], folder / "a.jpg")
    said = (f"error: the model {model} gave scores that are not finite (NaN or infinite) for {folder / 'a.jpg'}: a "
            "damaged model file, or one converted wrongly; export it again\n")
    assert main(["predict", str(folder), "--model", str(model), "--no-progress"]) == 2
    assert capsys.readouterr() == ("", said)  # the table printed its bare header before the error line
    for fmt in ("table", "csv", "json", "jsonl"):  # nothing on stdout, and no -o FILE, in every format
        assert main(["predict", str(folder), "--model", str(model), "--no-progress", "--format", fmt]) == 2
        assert capsys.readouterr() == ("", said), fmt
        out = tmp_path / f"results.{fmt}"
        assert main(["predict", str(folder), "--model", str(model), "--no-progress", "--format", fmt, "-o",
                     str(out)]) == 2
        assert capsys.readouterr() == ("", said) and not out.exists(), fmt



@pytest.mark.parametrize("heatmap", [False, True])
def test_the_cli_names_the_file_whose_scores_are_not_finite_not_its_place_in_a_batch(heatmap, tmp_path, test_images,
                                                                                       monkeypatch, capsys):
    """b.jpg, the second of a folder's images, said "for image 1" (its place among a run of images), and with
    --heatmap "for image 0" (its place in its batch): the user could not tell which file."""
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
    assert main(command + (["--heatmap", str(tmp_path / "maps")] if heatmap else [])) == 2
    err = capsys.readouterr().err
    assert f"not finite (NaN or infinite) for {folder / 'b.jpg'}: " in err, err


def test_the_web_app_answers_a_503_that_says_the_model_failed(tmp_path, test_images):
    from braintumor.web import create_app
    from braintumor.web.model_failures import MODEL_FAILED

    client = create_app(classifier=Classifier.load(_model(tmp_path, float("inf")), threads=1)).test_client()
    data = test_images["glioma"][0].read_bytes()
    for query in ("", "?heatmap=1"):
        r = client.post(f"/api/v1/predict{query}", data={"file": [(io.BytesIO(data), "a.jpg")]},
                        content_type="multipart/form-data")
        assert (r.status_code, r.get_json()) == (503, {"error": MODEL_FAILED})
    page = client.post("/", data={"file": [(io.BytesIO(data), "a.jpg")]}, content_type="multipart/form-data")
    assert page.status_code == 503 and "The server&#39;s model gave scores that are not finite" in page.text
