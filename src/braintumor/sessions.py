"""ONNX Runtime session settings: the options every session of a model file is built with, apart from the Classifier
that uses them (predictor.py was 322 lines). A teacher during training and the benchmarks build theirs here too.
"""

from __future__ import annotations

import onnxruntime as ort


def is_int8(metadata: dict) -> bool:
    """Whether a model file is the int8 copy (braintumor.quantize adds its ``quantization`` block): it carries the
    float file's name, version and data fingerprint, so this is how the page's header ("(int8 copy)"), /healthz and
    the metrics' ``quantized`` label tell the two apart, all from here."""
    return "quantization" in metadata


def disabled_optimizers(metadata: dict) -> list[str]:
    """ONNX Runtime graph optimisations a model file asks to run without (the int8 copy: braintumor.quantize)."""
    return list(metadata.get("quantization", {}).get("ort_disabled_optimizers") or [])


def session_options(threads: int, spin: bool = True) -> ort.SessionOptions:
    """ONNX Runtime settings, chosen by ``benchmarks/ab.py`` (docs/PERFORMANCE.md).

    One thread (each server worker): sequential execution, idle threads sleep, so workers never spin
    on each other's cores. Several threads (the CLI, the Python API): ``ORT_PARALLEL`` with ORT's default
    spinning measured 1.4x faster per image than sequential on 2 cores, same outputs bit for bit; without
    spinning the gain is gone. (ORT 1.32 reports such a session as sequential once built: the gain is
    measured, its mechanism inside ORT is not established.) ``spin=False``: sequential with sleeping
    threads at any count, for a session that takes turns with other work on the same cores (a teacher
    during training)."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    if threads > 1 and spin:
        opts.execution_mode = ort.ExecutionMode.ORT_PARALLEL
    else:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts
