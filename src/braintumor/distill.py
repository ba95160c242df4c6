"""Knowledge distillation for ``braintumor train --teacher MODEL.onnx``: a trained, exported model
teaches the network being trained, on the very augmented images that network sees.

Why: a narrower network trains and runs several times faster than the shipped one but ends a few
validation images behind it when it learns from the labels alone. The teacher's probabilities also say
which wrong classes an image resembles, and matching them on the same augmented views ("consistent
teaching", Beyer et al., CVPR 2022) passes that on. The teacher runs in ONNX Runtime, so any exported
model can teach, without its checkpoint. Training side only: serving never imports this module.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F

from .checkpoint_inputs import torch_file
from .model_files import ModelError
from .model_loading import METADATA_KEY, check_graph
from .preprocess import PreprocessConfig, trained_preprocess
from .sessions import session_options
from .train_config import ConfigError
from .wording import export_first_text


class Teacher:
    """Raw logits of an exported model for training batches (N, 1, S, S) in [0, 1]."""

    def __init__(self, path: str | Path, classes: tuple[str, ...] | list[str], preprocess: PreprocessConfig,
                 threads: int) -> None:
        opts = session_options(threads, spin=False)  # idle ORT threads must not spin on torch's cores
        if not Path(path).is_file():
            raise ConfigError(f"--teacher: model file not found: {path}")
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            meta = json.loads(self.session.get_modelmeta().custom_metadata_map[METADATA_KEY])
        except Exception:  # onnxruntime's own exception types, a missing key, broken JSON: not named by their class
            if torch_file(path):  # a run's best.pt: the teacher runs in ONNX Runtime, exported
                raise ConfigError(f"--teacher {path} is a torch checkpoint, not an exported model: "
                                  f"{export_first_text(path, 'teacher.onnx')}") from None
            raise ConfigError(f"--teacher {path} is not an exported braintumor model (not a valid ONNX file, or one "
                              "without braintumor's metadata): pass the .onnx 'braintumor export' wrote") from None
        self.classes = tuple(meta.get("classes", ()))
        if self.classes != tuple(classes):
            raise ConfigError(f"--teacher {path} was trained on classes {list(self.classes)}, "
                              f"this run has {list(classes)}")
        theirs = trained_preprocess(meta)  # not the served one: calibrate may add background subtraction
        if theirs != preprocess:  # the same pixels must mean the same thing to both networks
            a, b = theirs.to_dict(), preprocess.to_dict()  # what differs, not both dicts whole
            raise ConfigError(f"--teacher {path} was trained on other inputs than this run: "
                              + ", ".join(f"{k} {a[k]} (this run: {b.get(k)})" for k in a if a[k] != b.get(k)))
        try:  # a fixed batch of one (torch.onnx.export without a batch axis) failed the first batch, after the decode
            check_graph(self.session, preprocess.image_size, len(self.classes))
        except ModelError as exc:
            raise ConfigError(f"--teacher {path} cannot be used: {exc}") from None
        self.input = self.session.get_inputs()[0].name
        self.output = self.session.get_outputs()[0].name  # the one check_graph checked: the class scores
        self.path = Path(path)
        self.model_name = str(meta.get("model_name", "?"))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Teacher logits (N, K), float32 on the CPU; x is the augmented batch, as the student gets it."""
        batch = np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())
        return torch.from_numpy(self.session.run([self.output], {self.input: batch})[0])


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      temperature: float = 1.0) -> torch.Tensor:
    """KL(teacher || student) of the softened distributions, scaled by T^2 so its gradient keeps the
    same size whatever the temperature (Hinton et al., 2015)."""
    t = temperature
    return F.kl_div(F.log_softmax(student_logits.float() / t, 1), F.log_softmax(teacher_logits.float() / t, 1),
                    log_target=True, reduction="batchmean") * (t * t)
