"""An int8 copy of an exported model: ``braintumor quantize MODEL.onnx --run RUN_DIR --out MODEL-int8.onnx``.

The convolutions are most of the network's time (ONNX Runtime's profile: ~93 %), and on CPUs with int8
dot-product instructions (AVX-512 VNNI, AVX-VNNI, ARM dot product) an int8 convolution is about twice as
fast. ONNX Runtime's static quantisation (QDQ format, per-channel int8 weights, uint8 activations,
convolutions only: the linear head stays float, so class-activation maps stay exact; so does the first
convolution, whose one input channel gives int8 kernels nothing to gain: 176 us int8 against 48 us float in
``benchmarks/ort_profile.py``) needs the range of
every activation; it is measured on *all* of the run's training images (MinMax), so the result has no
sampling choice in it: with 600-image random samples, validation accuracy moved between 567 and 570 of 571
from one sample to the next (docs/RESULTS.md, "int8").

The int8 file is then calibrated like any export (temperature, OOD statistics: :mod:`braintumor.calibrate`)
on its own outputs, and carries the float file's metadata plus a ``quantization`` entry. Needs the ``[train]``
extra (onnx; torch for the calibration's augmented copies, not for ``--no-calibrate``). Validation and test accuracy
are the user's to compare (``braintumor evaluate``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from .atomic_files import require_file_destination, written_whole
from .embedded_metrics import headline_metrics, read_metrics_file
from .model_files import ModelError
from .model_loading import METADATA_KEY
from .orientation_graph import copy_check, strip_check
from .predictor import Classifier
from .preprocess import INPUT_SCALE

#: Images per calibration batch (MinMax ranges do not depend on it: min of mins, max of maxes).
BATCH: int = 64


#: ONNX Runtime graph optimisation that the int8 file runs without (see :func:`quantize`).
QDQ_PROPAGATION: str = "QDQPropagationTransformer"

#: Activation-range estimators of ONNX Runtime's calibration, by the name ``--method`` takes.
METHODS: tuple[str, ...] = ("minmax", "entropy", "percentile")


def quantize_network(model: str | os.PathLike, out: str | os.PathLike, images: np.ndarray,
                     method: str = "minmax", op_types: tuple[str, ...] = ("Conv",), float_stem: bool = False) -> None:
    """Write the int8 (QDQ) graph of ``model`` to ``out``, activation ranges measured on ``images``
    (prepared uint8 (N, S, S)); metadata is not carried over (:func:`quantize` does that). ``op_types``:
    the ONNX operators to quantise (the shipped file: convolutions). ``float_stem``: leave the first convolution
    (one input channel, where int8 kernels gain nothing) in float, as the shipped file does; such a graph must
    run without ORT's QDQ propagation (:data:`QDQ_PROPAGATION`). ``benchmarks/int8_check.py`` compares them.
    An orientation check in ``model`` is copied over as it is (float16 weights, not quantised)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if method not in METHODS:
        raise ValueError(f"unknown calibration method '{method}'; choose from {', '.join(METHODS)}")
    input_name = Classifier.load(model, threads=1).session.get_inputs()[0].name
    # the histogram calibrators stack every batch's outputs into one array: they need equal batches
    step = BATCH if method == "minmax" else 1

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.start = 0

        def get_next(self) -> dict | None:
            if self.start >= len(images):
                return None
            batch = images[self.start:self.start + step].astype(np.float32)[:, None] * np.float32(INPUT_SCALE)
            self.start += step
            return {input_name: batch}

    # the orientation check is neither quantised nor pre-processed (which widened its float16 weights to float32,
    # the file 106 kB larger): its thresholds were fitted on the float file's outputs, so the source's check is put
    # back as it is
    source = onnx.load_model(str(model))
    bare = onnx.ModelProto.FromString(source.SerializeToString())
    strip_check(bare.graph)
    with tempfile.TemporaryDirectory() as tmp:
        pre, stripped = Path(tmp) / "pre.onnx", Path(tmp) / "bare.onnx"
        onnx.save_model(bare, str(stripped), save_as_external_data=False)
        quant_pre_process(str(stripped), str(pre), skip_symbolic_shape=True)
        convs = [n.name for n in onnx.load_model(str(pre)).graph.node if n.op_type == "Conv"]
        quantize_static(str(pre), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=list(op_types), nodes_to_exclude=convs[:1] if float_stem else [],
                        calibrate_method=getattr(CalibrationMethod, {"minmax": "MinMax", "entropy": "Entropy",
                                                                     "percentile": "Percentile"}[method]))
    int8 = onnx.load_model(str(out))
    if copy_check(source.graph, int8.graph):
        onnx.save_model(int8, str(out), save_as_external_data=False)


def quantize(model: str | os.PathLike, run_dir: str | os.PathLike, out: str | os.PathLike,
             data: str | os.PathLike | None = None, calibrate: bool = True,
             metrics_file: str | os.PathLike | None = None) -> Path:
    """Write the int8 copy of ``model`` to ``out`` (atomically; its folder must exist, as for ``--out``) and return
    its path. ``metrics_file``:
    this file's own ``braintumor evaluate`` metrics.json, embedded as headline metrics (as export does)."""
    import onnx

    from .calibrate import require_fit_packages
    from .run_split import prepared_run_images

    require_file_destination(out)  # no folder made, as for the CLI's --out: a mistyped path is said, before any work
    clf = Classifier.load(model, threads=1)  # not a file, not ONNX, not ours: one clear ModelError before any work
    metrics = read_metrics_file(metrics_file, clf.metadata) if metrics_file else None  # a bad or foreign one: now
    source = onnx.load_model(str(model))
    info = json.loads({p.key: p.value for p in source.metadata_props}[METADATA_KEY])
    if "quantization" in info:
        raise ModelError(f"{model} is already quantised ({info['quantization'].get('method', 'int8')})")
    if calibrate:  # torch for the fit at the end: missing, say so now, not after the quantisation
        require_fit_packages(clf)
    images, _, is_val = prepared_run_images(clf, run_dir, data)
    images = images[~is_val]  # training images only: validation stays unseen for the temperature and OOD fit
    print(f"measuring activation ranges on {len(images)} training images", file=sys.stderr)
    out = Path(out)
    with written_whole(out) as tmp_out:  # a device or FIFO at --out is written through, not replaced
        quantize_network(model, tmp_out, images, float_stem=True)
        proto = onnx.load_model(str(tmp_out))
        info["quantization"] = {
            "method": "onnxruntime static quantisation: QDQ, per-channel int8 weights, uint8 activations, "
                      "convolutions only, the first one (one input channel) left in float",
            "calibration": "MinMax over every training image of the run", "calibration_images": len(images),
            "float_model_val_accuracy": info.get("calibration", {}).get("val_accuracy"),
            # with it, ORT moves the quantisation above the max-pool after the float stem into a slow uint8 NCHW
            # pool (~1 ms); Classifier.load builds the session without it
            "ort_disabled_optimizers": [QDQ_PROPAGATION]}
        info.pop("metrics", None)  # the float file's test metrics do not describe this file
        if metrics is not None:
            info["metrics"] = headline_metrics(metrics)
        del proto.metadata_props[:]
        entry = proto.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, json.dumps(info, sort_keys=True)
        proto.doc_string = source.doc_string
        onnx.save_model(proto, str(tmp_out), save_as_external_data=False)
        if calibrate:
            from .calibrate import calibrate as fit

            fit(tmp_out, run_dir, data)
    return out
