"""Opening an exported ONNX model file as a Classifier: the path, the thread count, the session, the metadata and the
graph, each refused with a clear message (FileNotFoundError, ValueError, ModelError). Apart from the Classifier that
uses it (predictor.py was 322 lines, and again 301 with the graph's check); its names are imported from here
(``ModelError`` also from ``braintumor``).
"""

from __future__ import annotations

import json
import os
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import onnxruntime as ort

from .cpu_quota import default_threads, server_workers
from .missing_files import long_name_text, shown_name, tilde_text, url_text
from .model_files import (
    MissingModelError,
    ModelError,
    default_model_path,
    not_a_model_file,
    resolve_model_path,
    shipped_model_names,
)
from .sessions import disabled_optimizers, session_options
from .wording import NUL_IN_NAME, counted, export_first_text

if TYPE_CHECKING:
    from .predictor import Classifier

#: Key of the JSON metadata blob inside the ONNX file.
METADATA_KEY = "braintumor"


#: Most ONNX Runtime threads a Classifier takes (the CLI's --threads too): 5000 hung for half a minute per image.
MAX_THREADS: int = 256
#: Most ONNX Runtime threads a Classifier gets when given none (the CPUs it may use: cpu_quota.default_threads), alone
#: or as a server's worker (serve's, a hand-started gunicorn's): for a ~1 ms image, threads past a few add only their
#: synchronisation, and spin after each run (2 threads on 2 CPUs: 1.3x the wall time and 2.2x the CPU of 1 per image
#: with gaps between, docs/DEPLOY.md), where serve --workers 1 on a 64-CPU host gave its worker 64.
DEFAULT_MAX_THREADS: int = 4

AnyClassifier = TypeVar("AnyClassifier", bound="Classifier")


def load_classifier(cls: type[AnyClassifier], path: str | os.PathLike | None = None,
                    threads: int | None = None, *, name: str | os.PathLike | None = None) -> AnyClassifier:
    """``cls.load(path, threads)``: :meth:`braintumor.predictor.Classifier.load` says what it takes and raises.
    ``name``: the model file ``path`` is a copy of (serve's held bytes, /proc/self/fd/N): the Classifier's ``path``,
    and what pickling opens again, where the copy's name meant nothing to a reader or to another process."""
    if path is not None and not isinstance(path, (str, os.PathLike, bytes)):  # 3 was told "str, bytes or os.PathLike"
        raise TypeError(f"Classifier.load takes a model file's path or None, not {type(path).__name__}")
    if isinstance(path, bytes) and b"\0" in path:  # a name holds no NUL: was "not found: " and megabytes of model
        raise TypeError(f"Classifier.load takes a model file's path, not the file's content ({len(path)} bytes): save "
                        "them to a file and pass its name")
    if path is not None and not os.fspath(path):  # Classifier.load(os.environ.get("MODEL", "")) used the shipped one
        raise ValueError("expected a model file name, got an empty string (None: $BRAINTUMOR_MODEL, else the "
                         "shipped model)")
    path = None if path is None else os.fsdecode(path)  # a name as bytes: pathlib said "argument should be a str"
    given = path if path is not None else os.environ.get("BRAINTUMOR_MODEL") or None  # the name in effect
    if given is not None and (said := NUL_IN_NAME if "\0" in given else long_name_text(given)):  # a NUL was shown
        env = "" if path is not None else " ($BRAINTUMOR_MODEL)"  # raw, 'not found'; a long one raised OSError
        raise MissingModelError(lambda way: f"{said}{env}: pass a model file's name ({way})")
    model_path = default_model_path() if path is None else resolve_model_path(path)
    if not model_path.is_file():  # a run folder given as the model was 'not found'; a stale $BRAINTUMOR_MODEL
        named = ", named by $BRAINTUMOR_MODEL" if path is None and os.environ.get("BRAINTUMOR_MODEL") else ""
        what = not_a_model_file(model_path)
        if what:
            raise MissingModelError(lambda way: f"{shown_name(model_path)}{named} is {what}: pass an ONNX model file "
                                    f"({way})")
        names = shipped_model_names()
        shipped = f"; a shipped one by its file name alone: {', '.join(names)}" if names else ""
        hint = (tilde_text(model_path) or url_text(model_path))[1:]  # a URL was told to train and export one
        shown = shown_name(path if path is not None and url_text(path) else model_path)  # as typed: pathlib's
        # https:/ was https://; quoted where blank or edged with white space ($BRAINTUMOR_MODEL=" " showed nothing)
        raise MissingModelError(lambda way: f"model file not found: {shown}{named} " + (
            hint or f"(train and export one, or pass another path: {way}{shipped})"))
    if threads is not None and (not isinstance(threads, Integral) or isinstance(threads, bool)
                                or not 1 <= threads <= MAX_THREADS):  # np.int64(2) is whole too: taken
        raise ValueError(f"threads must be a whole number from 1 to {MAX_THREADS} (None: the default), "
                         f"got {threads!r}")  # 1.5 was a raw pybind error; 1000 started 1000 threads
    threads = None if threads is None else int(threads)
    try:  # onnxruntime called a file it may not read "not a valid ONNX file" (a mount only its owner may read)
        with open(model_path, "rb") as f:
            empty = not f.read(1)
    except OSError as exc:
        who = " (the user running braintumor must be able to read it)" if isinstance(exc, PermissionError) else ""
        raise ModelError(f"cannot read model {model_path}: {exc.strerror or exc}{who}") from None
    if empty:  # was "not a valid ONNX file ... (damaged, cut short, or made for a newer version)"
        raise ModelError(f"cannot load model {model_path}: the file is empty (0 bytes: a copy or download that did not "
                         "finish?)")
    # a server's worker (gunicorn_config's post_fork says how many): its share of the CPUs, as serve gives its own
    opts = session_options(threads or default_threads(server_workers() or 1, at_most=DEFAULT_MAX_THREADS))
    try:
        session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    except Exception:  # onnxruntime raises its own exception types for broken files: said in words, not by class
        from .checkpoint_inputs import torch_file  # on an error path only

        if torch_file(model_path):  # train's last line names best.pt, which was then passed as --model
            raise ModelError(f"cannot load model {model_path}: a torch checkpoint, not an ONNX model: "
                             f"{export_first_text(model_path)}") from None
        raise ModelError(f"cannot load model {model_path}: not a valid ONNX file, or one this onnxruntime cannot run "
                         "(damaged, cut short, or made for a newer version)") from None
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if raw is None:
        raise ModelError(f"{model_path} is not a braintumor model (no '{METADATA_KEY}' metadata)")
    try:
        metadata = json.loads(raw)
        # a file may name graph optimisations that slow it down (the int8 copy: braintumor.quantize); the
        # session is then built again without them, once, at load time
        disabled = disabled_optimizers(metadata)
        if disabled:
            session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"],
                                           disabled_optimizers=disabled)
        check_classes(metadata)  # before the Classifier: it takes a missing list as the four classes
        classifier = cls(session, metadata, model_path if name is None else Path(name))
        # here, not in __init__: a session built in memory need not be ONNX Runtime's
        check_graph(classifier.session, classifier.image_size, len(classifier.classes))
        return classifier
    except ModelError as exc:
        raise ModelError(f"{model_path} cannot be used: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # said in words: "(KeyError)" was
        what = f"no '{exc.args[0]}' field" if isinstance(exc, KeyError) and exc.args else "a field that cannot be used"
        raise ModelError(f"{model_path} has broken '{METADATA_KEY}' metadata ({what}): export the model again") \
            from None


def check_graph(session: ort.InferenceSession, size: object, n_classes: int) -> None:
    """ModelError unless the graph takes (N, 1, S, S) images (``size``: S, as the metadata says) and gives one logit
    per class (``n_classes``): a file whose graph does not (a hand-made or foreign one) loaded, then failed every
    prediction (or a --teacher every training batch) deep inside ONNX Runtime."""
    def fits(dims: list, wanted: list[int | None]) -> bool:  # named (symbolic) dimensions fit anything
        return len(dims) == len(wanted) and all(w is None or not isinstance(d, int) or d == w
                                                for d, w in zip(dims, wanted, strict=True))

    inputs = session.get_inputs()
    if len(inputs) != 1 or not fits(list(inputs[0].shape), [None, 1, size, size]):
        raise ModelError(f"its graph does not take one (N, 1, {size}, {size}) image batch, as its metadata says")
    if inputs[0].type != "tensor(float)":  # a float16 conversion: every batch was an 'Unexpected input data type'
        raise ModelError(f"its graph takes images of {inputs[0].type}, not the float32 ones it is given (a float16 "
                         "conversion?): use the float32 model 'braintumor export' wrote")
    if isinstance(batch := inputs[0].shape[0], int):  # fitted above; a fixed N failed every batch of another size
        raise ModelError(f"its graph takes batches of exactly {counted(batch, 'image')}, not any number (N): export "
                         "it again with a dynamic batch dimension")
    if not fits(list(session.get_outputs()[0].shape), [None, n_classes]):
        raise ModelError(f"its graph does not give {n_classes} class scores, as its metadata says")


def check_classes(metadata: dict) -> None:
    """ModelError unless the metadata names its classes as distinct, non-empty labels: a file without them loaded as
    the four classes, whatever it was trained on, and "abcd" or [1, 2, 3, 4] loaded and labelled every prediction with
    them."""
    classes = metadata.get("classes") if isinstance(metadata, dict) else None
    if classes is None:
        raise ModelError("its metadata names no 'classes' (the labels of its scores, in order): export it again")
    if (not isinstance(classes, list) or not classes
            or not all(isinstance(c, str) and c.strip() for c in classes)):
        raise ModelError(f"its metadata's 'classes' must be a list of class names, got {json.dumps(classes)[:80]}")
    if len(set(classes)) != len(classes):
        raise ModelError(f"its metadata's 'classes' name a class twice: {json.dumps(classes)[:80]}")
