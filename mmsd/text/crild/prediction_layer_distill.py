# Copyright (c) mmsd contributors. All rights reserved.
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from transformers import AutoModelForSequenceClassification

from mmsd.models import FrozenTeacherMixin
from ..hf_loading import build_hf_model
from ..models.sequence_classifier import HFSequenceClassifier


def soft_cross_entropy(student_logits: torch.Tensor,
                       teacher_logits: torch.Tensor,
                       temperature: float) -> torch.Tensor:
    """Hinton's distillation loss: cross-entropy between the softened
    teacher and student distributions, times T² (batch mean)."""
    log_student = F.log_softmax(student_logits / temperature, dim=-1)
    teacher = F.softmax(teacher_logits / temperature, dim=-1)
    return -(teacher * log_student).sum(-1).mean() * temperature**2


@MODELS.register_module()
class PredictionLayerDistill(FrozenTeacherMixin, HFSequenceClassifier):
    """A sequence classifier trained on the softened predictions of a frozen
    fine-tuned teacher.

    Implementation of stage B of `Towards Robust Intermediate Layer
    Distillation (CR-ILD) <https://aclanthology.org/2023.eacl-main.75>`_:
    ``loss_kd`` is the cross-entropy between the teacher's and the
    student's softmax at temperature T, times T²; for regression
    (``num_classes=1``) the squared error of the outputs. Predictions and
    metrics are those of :class:`HFSequenceClassifier`.

    Args:
        teacher (str): Local directory of the fine-tuned classifier.
        temperature (float): Softmax temperature T. Defaults to 2.0.
        hard_label_weight (float): Weight of the usual loss on the labels,
            added when positive. Defaults to 0.
        **kwargs: Arguments of :class:`HFSequenceClassifier` (the student:
            e.g. the directory written by stage A).
    """

    def __init__(self,
                 teacher: str,
                 temperature: float = 2.0,
                 hard_label_weight: float = 0.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.build_teacher(
            build_hf_model(AutoModelForSequenceClassification, teacher))
        labels = self.teacher.config.num_labels
        if labels != self.hf_model.config.num_labels:
            raise ValueError(f'The teacher {teacher!r} predicts {labels} '
                             'classes, the student '
                             f'{self.hf_model.config.num_labels}.')
        self.temperature = temperature
        self.hard_label_weight = hard_label_weight

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        logits = self.forward_logits(inputs)
        with torch.no_grad():
            teacher = self.teacher(**inputs).logits
        if logits.shape[-1] == 1:
            losses = dict(loss_kd=F.mse_loss(logits, teacher))
        else:
            losses = dict(
                loss_kd=soft_cross_entropy(logits, teacher, self.temperature))
        if self.hard_label_weight > 0:
            hard = self.head.loss((logits, ), data_samples)['loss']
            losses['loss_cls'] = self.hard_label_weight * hard
        return losses
