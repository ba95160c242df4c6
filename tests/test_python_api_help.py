"""What ``help()`` shows a notebook user: each public function of the Python API says what it is for, with hints."""

from __future__ import annotations

import importlib
import inspect
import pydoc

import braintumor

API_MODULES = ("braintumor.predictor", "braintumor.prediction", "braintumor.image_io", "braintumor.image_files",
               "braintumor.image_arrays",
               "braintumor.preprocess", "braintumor.heatmap", "braintumor.batch_predict", "braintumor.classes",
               "braintumor.processes", "braintumor.volume_io", "braintumor.volume_objects", "braintumor.series")


def _public_functions():
    for name in API_MODULES:
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", obj
            elif inspect.isclass(obj):
                for member, raw in vars(obj).items():
                    fn = raw.fget if isinstance(raw, property) else getattr(raw, "__func__", raw)
                    if not member.startswith("_") and inspect.isfunction(fn):
                        yield f"{name}.{attr}.{member}", fn


def test_public_functions_have_a_docstring_and_type_hints():
    problems = []
    for where, fn in _public_functions():
        if not inspect.getdoc(fn):
            problems.append(f"{where}: no docstring")
        params = [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]
        missing = [p for p in [*params, "return"] if p not in fn.__annotations__]
        if missing:
            problems.append(f"{where}: no type hint for {', '.join(missing)}")
    assert problems == []


def test_help_on_the_classifier_says_how_to_start_and_what_it_raises():
    text = pydoc.render_doc(braintumor.Classifier, renderer=pydoc.plaintext)
    for words in ("Classifier.load()", "predict_many", "explain", "ImageError", "ModelError", "FileNotFoundError",
                  "metadata", "image_size"):
        assert words in text, words


def test_explain_says_what_it_raises_for_a_wrong_kind_of_argument():
    """README: a wrong kind of argument (a list, None) raises TypeError; ``explain``'s docstring named ImageError
    only."""
    import pytest

    from braintumor.heatmap import explain
    from braintumor.model_files import default_model_path

    assert "ImageError" in inspect.getdoc(explain) and "TypeError" in inspect.getdoc(explain)
    if not default_model_path().exists():
        pytest.skip("no shipped model")
    with pytest.raises(TypeError):
        explain(braintumor.Classifier.load(threads=1), ["scan.jpg"])
