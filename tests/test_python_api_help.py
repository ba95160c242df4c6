"""What ``help()`` shows a notebook user: each public function of the Python API says what it is for, with hints."""

from __future__ import annotations

import importlib
import inspect
import pydoc

import braintumor

API_MODULES = ("braintumor.predictor", "braintumor.prediction", "braintumor.image_io", "braintumor.image_files",
               "braintumor.image_arrays",
               "braintumor.preprocess", "braintumor.heatmap", "braintumor.batch_predict", "braintumor.batch_workers",
               "braintumor.classes",
               "braintumor.processes", "braintumor.volume_io", "braintumor.input_plan", "braintumor.volume_objects",
               "braintumor.folder_scans", "braintumor.scan_sniff",
               "braintumor.series", "braintumor.csv_records")


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


def _public_to_type_checkers(module: str) -> set[str]:
    """The names a type checker lets users import from ``module`` of a typed package (PEP 484's rule for stubs and
    py.typed packages, pyright's reportPrivateImportUsage): defined there, imported as ``name as name``, listed in
    ``__all__``, or a submodule of the package."""
    import ast

    from conftest import REPO

    package = REPO / "src" / "braintumor"
    path = package / "__init__.py" if module == "braintumor" else package / f"{module.split('.', 1)[1]}.py"
    names = {p.stem for p in package.glob("*.py")} | {p.name for p in package.iterdir() if p.is_dir()} \
        if module == "braintumor" else set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {target.id} if isinstance(target, ast.Name) else set()
                if getattr(target, "id", None) == "__all__":
                    names |= {e.value for e in node.value.elts}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {a.asname for a in node.names if a.asname == a.name}
    return names


def test_type_checkers_see_the_api_typed_and_every_name_its_callers_import_as_public():
    """No py.typed marker was shipped, so mypy said "module is installed, but missing library stubs or py.typed
    marker" and read every call as Any, the hints written for it unseen. Typed, a name a module only imports is
    private to checkers: ``from braintumor.predictor import Prediction`` (where prediction.py says callers import it
    from), ``softmax`` and ``REVIEW_BELOW`` were "not exported"."""
    import ast

    from conftest import REPO

    assert (REPO / "src" / "braintumor" / "py.typed").is_file()
    api = {*API_MODULES, "braintumor"}
    public = {module: _public_to_type_checkers(module) for module in api}
    private = set()
    for path in [*REPO.glob("tests/*.py"), *REPO.glob("scripts/*.py"), *REPO.glob("benchmarks/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in api:
                private |= {f"{node.module}.{a.name} ({path.name})" for a in node.names
                            if not a.name.startswith("_") and a.name not in public[node.module]}
    assert private == set()


def test_predict_many_tells_type_checkers_which_tuples_it_yields():
    """Its one return type was a union of the (source, outcome) pairs and the (source, outcome, probabilities)
    triples, whichever ``with_probabilities`` was: the README's ``for path, outcome in clf.predict_many(...)`` unpacked
    a possible triple ("too many values to unpack" to mypy), and a triple's ``probs`` was a possible Prediction."""
    import sys
    import typing

    import pytest

    if sys.version_info < (3, 11):
        pytest.skip("typing.get_overloads is Python 3.11's")
    sizes = {}
    for overload in typing.get_overloads(braintumor.Classifier.predict_many):
        hints = typing.get_type_hints(overload)
        (pairs,) = typing.get_args(hints["return"])  # Iterator[tuple[...]]
        sizes[hints["with_probabilities"]] = {len(typing.get_args(t)) for t in typing.get_args(pairs) or [pairs]} \
            if typing.get_origin(pairs) is not tuple else {len(typing.get_args(pairs))}
    assert sizes[typing.Literal[False]] == {2} and sizes[typing.Literal[True]] == {3} and sizes[bool] == {2, 3}


def test_the_readers_hints_resolve_and_take_every_bytes_like_object_they_read():
    """Every reader takes bytearray and memoryview as bytes (tests/test_python_api.py), but their hints said ``bytes``,
    which type checkers no longer stretch to them (PEP 688): ``clf.predict(bytearray(data))`` was an error there.
    And read_volumes' hint named a type defined for type checkers only: typing.get_type_hints raised NameError."""
    import typing

    from braintumor.heatmap import explain
    from braintumor.image_io import decode_image, read_image
    from braintumor.volume_io import iter_volumes, read_volumes

    readers = {"predict": braintumor.Classifier.predict, "inspect_crop": braintumor.Classifier.inspect_crop,
               "explain": explain, "read_image": read_image, "decode_image": decode_image,
               "read_volumes": read_volumes, "iter_volumes": iter_volumes}
    missing = {name: kind.__name__ for name, reader in readers.items() for kind in (bytes, bytearray, memoryview)
               if kind not in typing.get_args(typing.get_type_hints(reader)["source"])}
    assert missing == {}


def test_predict_many_gives_each_image_back_typed_as_it_was_given():
    """Each answer's image was typed ``Source`` (a union of paths, bytes, files, arrays, PIL images and slices) whatever
    was given: ``for path, outcome in clf.predict_many(paths): path.parent`` was a type error to mypy ("str" has no
    attribute "parent"), and an IDE offered nothing for ``path.``. Each overload gives back the type it takes."""
    import sys
    import typing

    import pytest

    from braintumor.predictor import Source

    if sys.version_info < (3, 11):
        pytest.skip("typing.get_overloads is Python 3.11's")
    overloads = typing.get_overloads(braintumor.Classifier.predict_many)
    assert len(overloads) == 3
    for overload in overloads:
        hints = typing.get_type_hints(overload)
        (taken,) = typing.get_args(hints["sources"])  # Iterable[T]
        assert isinstance(taken, typing.TypeVar) and taken.__bound__ == Source
        (answers,) = typing.get_args(hints["return"])  # Iterator[tuple[T, ...]], or of a union of two such tuples
        tuples = [answers] if typing.get_origin(answers) is tuple else typing.get_args(answers)
        assert [typing.get_args(answer)[0] for answer in tuples] == [taken] * len(tuples)
