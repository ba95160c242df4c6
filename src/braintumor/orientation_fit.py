"""Fit the orientation check and graft it into an exported model: ``braintumor orientation MODEL.onnx --run RUN``.

Self-supervised: the labels are the turns themselves. Every training image of the run (prepared as the model is
served, augmented with the training recipe's geometry and intensity) is turned by k quarters, k drawn at random,
and :class:`braintumor.model.OrientationNet` learns k. Its refusal threshold for a quarter turn is fitted on the
run's validation images only: no upright one, nor its mirror image, lies above it (:func:`fit_threshold`), and by the
same rule its threshold for upside down (:data:`REFUSE_UPSIDE_DOWN`). ``--refit-thresholds`` fits them again with the
network already in the files (:func:`refit_thresholds`).
The network is exported on its own, then its nodes are added to the model's graph under
:data:`braintumor.orientation.PREFIX`, reading the same input: one file, one run per batch. A model already holding
one has it replaced. Needs the ``[train]`` extra (torch, onnx).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .augment import augment
from .calibrate import write_metadata
from .model import OrientationNet
from .models_together import rewritten_together
from .orientation import FIT_EPOCHS as EPOCHS
from .orientation import OUTPUT, PREFIX, turn_probabilities, turn_reasons
from .orientation_graph import is_check, strip_check
from .predictor import Classifier
from .preprocess import INPUT_SCALE
from .quiet_libraries import quiet_this_thread
from .run_split import fitted_on, prepared_run_images
from .train_device import pick_autocast_dtype
from .wording import counted

#: Refuse slices the network finds upside down? Yes since 2026-12-06, late, by the quarter turns' rule (no upright
#: validation crop above it: 0.9334 for the shipped network, 63.9 % of the upside-down validation crops refused),
#: adopted after its Testing figures were seen (`scripts/orientation_eval.py`): of the 1113 answers on the Testing
#: slices turned 180 degrees it refuses 617, 104 of their 131 wrong ones, and 3 more upright Testing slices. Before,
#: no: a threshold that refused 0.25 % of the upright validation slices as upside down refused 21 of the 1311 upright
#: Testing slices (docs/RESULTS.md, "Slices on their side or upside down").
REFUSE_UPSIDE_DOWN: bool = True
#: The shipped check's widths. Chosen first, on validation, for the upside-down slices refused at the first rule (8-64
#: channels 65.2 % / 0.22 MB, 16-32-48-64 73.7 % / 0.31 MB, 16-128 68.4 % / 1.24 MB in float32); with upside down
#: no longer refused, the smallest: at the shipped threshold rule it refuses 99.69 % of the validation quarter turns,
#: 16-32-48-64 98.99 % (neither an upright crop), in fewer bytes (docs/RESULTS.md). Its cost per image is ~0.16 ms
#: either way (node overhead, not multiply-adds: docs/PERFORMANCE.md, "Eighteenth round").
WIDTHS: tuple[int, ...] = (8, 16, 32, 64)


def turn(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Each image of (B, 1, S, S) turned by its own number of quarters, anticlockwise (as ``np.rot90``)."""
    out = x.clone()
    for quarters in range(1, 4):
        chosen = k == quarters
        if chosen.any():
            out[chosen] = torch.rot90(x[chosen], quarters, dims=(2, 3))
    return out


def train_network(images: np.ndarray, epochs: int = EPOCHS, batch_size: int = 128, lr: float = 3e-3,
                  seed: int = 0, widths: tuple[int, ...] = WIDTHS, log=print) -> nn.Module:
    """Train an OrientationNet on prepared uint8 images (N, S, S), upright: the whole loop, one page."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    net = OrientationNet(widths).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.05)
    steps = epochs * ((len(images) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    amp = pick_autocast_dtype(torch.device("cpu"), "auto")
    data = torch.from_numpy(images)
    for epoch in range(1, epochs + 1):
        net.train()
        start, seen, right, loss_sum = time.perf_counter(), 0, 0, 0.0
        for idx in torch.randperm(len(data), generator=g).split(batch_size):
            x = augment(data[idx].float()[:, None] * INPUT_SCALE, g)
            k = torch.randint(0, 4, (len(idx),), generator=g)
            x = turn(x, k).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=amp, enabled=amp is not None):
                logits = net(x)
            loss = nn.functional.cross_entropy(logits.float(), k)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen, right = seen + len(idx), right + int((logits.argmax(1) == k).sum())
            loss_sum += float(loss.detach()) * len(idx)
        log(f"orientation epoch {epoch}/{epochs}: loss {loss_sum / seen:.4f}, turns right {right / seen:.2%}, "
            f"{time.perf_counter() - start:.1f} s")
    return net.eval()


def turned_copies(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the images and their mirrors, each in its four turns (8N, S, S); the turn of each)."""
    both = np.concatenate([images, images[:, :, ::-1]])
    return (np.concatenate([np.rot90(both, k, axes=(1, 2)) for k in range(4)]),
            np.repeat(np.arange(4), len(both)))


def part_logits(part, images: np.ndarray, batch: int = 512) -> np.ndarray:
    """Logits of prepared uint8 images from the exported network itself (its half-precision weights included): the
    thresholds are fitted on what serving computes, not on torch's float32 twin."""
    import onnxruntime as ort

    session = ort.InferenceSession(part.SerializeToString(), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: images[i:i + batch, None].astype(np.float32)
                                              * np.float32(INPUT_SCALE)})[0] for i in range(0, len(images), batch)])


def half_precision(part) -> None:
    """Store the part's float32 weights as float16, each widened back by a Cast that ONNX Runtime folds when it
    loads the file: half the bytes (the int8 classifier's file grew 75 % with them in float32), the same speed."""
    from onnx import TensorProto, helper, numpy_helper

    graph, casts = part.graph, []
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and init.name not in {i.name for i in graph.input}:
            wide = init.name
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), wide + "_fp16"))
            casts.append(helper.make_node("Cast", [wide + "_fp16"], [wide], to=TensorProto.FLOAT,
                                          name=f"{wide}_widen"))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def fit_threshold(upright: np.ndarray) -> float:
    """The quarter-turn threshold: the highest P(quarter turn) of an upright validation slice, so that none of them is
    refused, and never under 0.5 (the turn must be likelier than not). Not a quantile: one that refused 0.25 % of
    the upright validation slices refused 0.84 % of the upright Testing ones (11 of 1311; docs/RESULTS.md)."""
    return max(0.5, float(np.max(upright)))


def graft(model_proto, part_proto) -> None:
    """Add ``part_proto``'s graph (one input, one output) to ``model_proto``'s as the output :data:`OUTPUT`, reading
    the model's input; any earlier orientation sub-graph is removed first."""
    graph, part = model_proto.graph, part_proto.graph
    strip_check(graph)
    rename = {part.input[0].name: graph.input[0].name, part.output[0].name: OUTPUT}

    def name(tensor: str) -> str:
        return rename.get(tensor, PREFIX + tensor) if tensor else tensor  # "": an optional input left out

    for init in part.initializer:
        init.name = name(init.name)
        graph.initializer.append(init)
    for node in part.node:
        node.input[:] = [name(t) for t in node.input]
        node.output[:] = [name(t) for t in node.output]
        node.name = PREFIX + (node.name or node.output[0])
        del node.metadata_props[:]  # the build machine's stack traces
        graph.node.append(node)
    out = part.output[0]
    out.name = OUTPUT
    graph.output.append(out)


def export_network(net: nn.Module, size: int, opset: int = 18):
    """The network alone as an ONNX ModelProto (input ``image`` (N, 1, S, S), output ``orientation``)."""
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with quiet_this_thread():  # the exporter's chatter, on this thread only (as ``export``)
        program = torch.onnx.export(net, (torch.rand(2, 1, size, size),), input_names=["image"],
                                    output_names=[OUTPUT], opset_version=opset, dynamo=True, verbose=False,
                                    dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=4096)}})
    proto = program.model_proto
    if len(proto.functions):
        import onnx

        proto = onnx.inline_local_functions(proto)
    return proto


def fit_orientation(models: Sequence[str | os.PathLike], run_dir: str | os.PathLike,
                    data: str | os.PathLike | None = None, epochs: int = EPOCHS, seed: int = 0, log=print) -> dict:
    """Train the orientation network on the run's training images, fit its thresholds on the validation images,
    graft it into each of ``models`` (rewritten together, or none; all must share one preprocessing, as a float
    file and its int8 copy do) and return the metadata entry they store."""
    import onnx

    from .data import DatasetError

    models = [models] if isinstance(models, (str, os.PathLike)) else list(models)
    classifiers = [Classifier.load(m, threads=1) for m in models]  # not a model: one clear error before any work
    if any(c.preprocess_config != classifiers[0].preprocess_config for c in classifiers):
        raise DatasetError("the models prepare images differently: fit the orientation check for each on its own")
    images, _, is_val = prepared_run_images(classifiers[0], run_dir, data)
    fitted_on(run_dir, is_val)
    log(f"training the orientation check on {counted(int((~is_val).sum()), 'training image')}, "
        f"{counted(epochs, 'epoch')}")
    start = time.perf_counter()
    net = train_network(images[~is_val], epochs=epochs, seed=seed, log=log)
    seconds = time.perf_counter() - start
    part = export_network(net, classifiers[0].image_size)
    half_precision(part)
    copies, turns = turned_copies(images[is_val])
    logits = part_logits(part, copies)
    entry = {"network": f"OrientationNet ({'/'.join(map(str, WIDTHS))} channels, half resolution, float16 weights)",
             "epochs": epochs, "seed": seed, "training_images": int((~is_val).sum()),
             "training_seconds": round(seconds, 1), **fitted_thresholds(logits, turns, log)}
    sample = slice(None, None, max(1, len(copies) // 64))
    with rewritten_together(models) as written:  # all or none: a float file and its int8 copy refuse alike
        for model, tmp_path in zip(models, written, strict=True):
            proto = onnx.load_model(str(model))
            graft(proto, onnx.ModelProto.FromString(part.SerializeToString()))  # graft renames in place: a copy each
            onnx.save_model(proto, str(tmp_path), save_as_external_data=False)
            onnx.checker.check_model(str(tmp_path))
            write_metadata(tmp_path, {"orientation": entry})
            _check_parity(logits[sample], tmp_path, copies[sample])
    for model in models:
        log(f"wrote the orientation check into {model}")
    return entry


def fitted_thresholds(logits: np.ndarray, turns: np.ndarray, log=print) -> dict:
    """The metadata's thresholds (:func:`fit_threshold` of each turn's probability over the upright validation crops;
    upside down None unless :data:`REFUSE_UPSIDE_DOWN`) and what they refuse on those crops, said in one line."""
    quarter, half = turn_probabilities(logits)
    upright = turns == 0
    thresholds = fit_threshold(quarter[upright]), (fit_threshold(half[upright]) if REFUSE_UPSIDE_DOWN else None)
    refused = np.array([r is not None for r in turn_reasons(logits, *thresholds)])
    entry = {"quarter_threshold": thresholds[0], "half_threshold": thresholds[1], "val_images": len(turns) // 8,
             "val_turn_accuracy": round(float((logits.argmax(1) == turns).mean()), 6),
             "val_upright_refused": round(float(refused[upright].mean()), 6),
             "val_quarter_turns_refused": round(float(refused[turns % 2 == 1].mean()), 6),
             "val_upside_down_refused": round(float(refused[turns == 2].mean()), 6)}
    upside_down = f"refused above {thresholds[1]:.4f}" if thresholds[1] is not None else "not refused"
    log(f"validation ({entry['val_images']} images and their mirrors, 4 turns each): turn right "
        f"{entry['val_turn_accuracy']:.2%}; quarter-turn threshold {thresholds[0]:.4f}; upside down {upside_down}; "
        f"refused: upright {entry['val_upright_refused']:.2%}, quarter turns {entry['val_quarter_turns_refused']:.2%}, "
        f"upside down {entry['val_upside_down_refused']:.2%}")
    return entry


def grafted_network(model: str | os.PathLike):
    """The orientation sub-graph of a model file as a model of its own (the file's input, output :data:`OUTPUT`):
    the network :func:`fit_orientation` exported, to refit its thresholds without training it again."""
    import onnx
    from onnx import helper

    from .data import DatasetError

    proto = onnx.load_model(str(model))
    graph = proto.graph
    outputs = [o for o in graph.output if o.name == OUTPUT]
    if not outputs:
        raise DatasetError(f"{model} has no orientation check to refit: 'braintumor orientation' without "
                           "--refit-thresholds grafts one")
    part = helper.make_graph([n for n in graph.node if n.name.startswith(PREFIX)], "orientation", [graph.input[0]],
                             outputs, [i for i in graph.initializer if is_check(i)])
    return helper.make_model(part, opset_imports=proto.opset_import, ir_version=proto.ir_version)


def refit_thresholds(models: Sequence[str | os.PathLike], run_dir: str | os.PathLike,
                     data: str | os.PathLike | None = None, log=print) -> dict:
    """Fit the thresholds again, by today's rule (:data:`REFUSE_UPSIDE_DOWN`), on the run's validation images with
    the network already in ``models`` (all must carry the same one, as a float file and its int8 copy do), and
    rewrite only their metadata entry, atomically; return it. No training: the network and every answer stay."""
    from .data import DatasetError

    models = [models] if isinstance(models, (str, os.PathLike)) else list(models)
    classifiers = [Classifier.load(m, threads=1) for m in models]
    parts = [grafted_network(m) for m in models]
    if any(p.graph.SerializeToString() != parts[0].graph.SerializeToString() for p in parts[1:]) \
            or any(c.preprocess_config != classifiers[0].preprocess_config for c in classifiers):
        raise DatasetError("the models carry different orientation checks: refit each on its own")
    images, _, is_val = prepared_run_images(classifiers[0], run_dir, data)
    copies, turns = turned_copies(images[is_val])
    entry = {**classifiers[0].metadata["orientation"], **fitted_thresholds(part_logits(parts[0], copies), turns, log)}
    with rewritten_together(models) as written:  # all or none, as fit_orientation's
        for model, tmp_path in zip(models, written, strict=True):
            shutil.copyfile(model, tmp_path)
            write_metadata(tmp_path, {"orientation": entry})
    for model, clf in zip(models, classifiers, strict=True):
        log(f"refitted the thresholds of {model} (quarter turn {clf.metadata['orientation']['quarter_threshold']:.6f}"
            f" -> {entry['quarter_threshold']:.6f})")
    return entry


def _check_parity(want: np.ndarray, path: Path, images: np.ndarray, tol: float = 1e-4) -> None:
    """The grafted output against the network's own on the same images, and the file still loads as a model."""
    got = Classifier.load(path, threads=1).run_all(images[:, None].astype(np.float32) * np.float32(INPUT_SCALE))
    diff = float(np.abs(got[OUTPUT] - want).max())
    if diff >= tol:
        raise RuntimeError(f"the grafted orientation output disagrees with the fitted network (max |diff| {diff:.2e})")
