"""The orientation check's entries in an ONNX graph, by name (protos only: no torch, no onnx import).

One home for which nodes, initializers and values are the check's (:data:`braintumor.orientation.PREFIX`, output
:data:`braintumor.orientation.OUTPUT`), for ``braintumor orientation``, which replaces a file's check, and for
``braintumor quantize``, which quantises a file without its check and then puts the source's back as it was: ONNX
Runtime's pre-processing folds the check's float16 weights and their Cast nodes into float32 (its weights 154 kB more,
the shipped int8 file 106 kB), which is not the check whose thresholds were fitted.
"""

from __future__ import annotations

from .orientation import OUTPUT, PREFIX


def is_check(entry) -> bool:
    """A node, initializer or value (anything with a ``name``) of the orientation sub-graph."""
    return entry.name == OUTPUT or entry.name.startswith(PREFIX)


def strip_check(graph) -> None:
    """Remove every entry of the orientation sub-graph from ``graph`` (an ``onnx.GraphProto``), in place."""
    for field in (graph.node, graph.initializer, graph.output, graph.value_info):
        keep = [e for e in field if not is_check(e)]
        del field[:]
        field.extend(keep)


def copy_check(source, graph) -> bool:
    """Replace ``graph``'s orientation sub-graph by ``source``'s (both ``onnx.GraphProto``, reading an input of the
    same name), entry for entry: the same nodes, weights and dtypes. False, ``graph`` untouched, if ``source`` has
    none."""
    if not any(o.name == OUTPUT for o in source.output):
        return False
    strip_check(graph)
    for field in ("node", "initializer", "output", "value_info"):
        getattr(graph, field).extend(e for e in getattr(source, field) if is_check(e))
    return True
