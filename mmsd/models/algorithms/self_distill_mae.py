# Copyright (c) mmsd contributors. All rights reserved.
from typing import Dict, List, Optional

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from ..utils import FrozenTeacherMixin, cls_only_last_layer
from .further_pretrain_mae import FurtherPretrainMAE


@MODELS.register_module()
class SelfDistillMAE(FrozenTeacherMixin, FurtherPretrainMAE):
    """MAE with self-distillation towards a frozen further-pre-trained
    encoder.

    Implementation of stage 2 of `Self-Distillation for Further Pre-training
    of Transformers <https://arxiv.org/abs/2210.02871>`_. The student (encoder
    and decoder) starts from ``init_checkpoint``, the original pre-trained
    model; the teacher is an encoder of the same architecture, frozen and in
    eval mode. The loss is ``loss_mae`` on a masked pass plus
    ``loss_distill`` between a separate unmasked student pass and the teacher
    on the same images.

    Distillation is active once a teacher exists: from the start if
    ``teacher_checkpoint`` is given, otherwise after :meth:`start_distill`
    (called by :class:`mmsd.engine.SelfDistillStageHook` when stage 1 ends).
    The state is saved in checkpoints, so a resumed run knows its stage.

    Args:
        distill_head (dict): Config of the distillation loss head.
            Defaults to ``dict(type='SelfDistillHead')``.
        teacher_checkpoint (str, optional): Checkpoint of the further
            pre-trained encoder (``backbone.*`` keys: a training checkpoint or
            one written by ``tools/export_backbone.py``). Defaults to None.
        cls_only_last_block (bool, optional): Compute the last block of the
            unmasked passes for the class token only (exact, less work).
            Defaults to None: on when the distilled representation is the
            class token.
        **kwargs: Arguments of :class:`FurtherPretrainMAE`.
    """

    def __init__(self,
                 distill_head: dict = dict(type='SelfDistillHead'),
                 teacher_checkpoint: Optional[str] = None,
                 cls_only_last_block: Optional[bool] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.build_teacher(kwargs['backbone'])
        self.distill_head = MODELS.build(distill_head)
        self.teacher_checkpoint = teacher_checkpoint
        self.distill_enabled = False
        cls_token = self.distill_head.representation == 'cls_token'
        if cls_only_last_block and not cls_token:
            raise ValueError(
                'SelfDistillMAE: cls_only_last_block=True needs '
                "distill_head.representation='cls_token', got "
                f'{self.distill_head.representation!r}.')
        self.cls_only_last_block = (
            cls_token if cls_only_last_block is None else cls_only_last_block)

    def init_weights(self) -> None:
        """Load the initial student and, if given, the teacher."""
        super().init_weights()
        if self.teacher_checkpoint is not None:
            self.load_teacher(self.teacher_checkpoint, 'backbone.')
            self.distill_enabled = True

    def start_distill(self) -> None:
        """Freeze the current encoder as the teacher and restart the student
        from the initial weights."""
        self.teacher.load_state_dict(self.backbone.state_dict())
        self.load_initial_weights()
        self.distill_enabled = True

    def get_extra_state(self) -> torch.Tensor:
        # A tensor, so that MMEngine can broadcast the state dict.
        return torch.tensor(self.distill_enabled)

    def set_extra_state(self, state: torch.Tensor) -> None:
        self.distill_enabled = bool(state)

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_mae``, plus ``loss_distill`` once distillation is on."""
        losses = super().loss(inputs, data_samples, **kwargs)
        if self.distill_enabled:
            student = self.unmasked_tokens(self.backbone, inputs)
            with torch.no_grad():
                teacher = self.unmasked_tokens(self.teacher, inputs)
            losses['loss_distill'] = self.distill_head.loss(student, teacher)
        return losses

    def unmasked_tokens(self, encoder: nn.Module,
                        inputs: torch.Tensor) -> torch.Tensor:
        """Final-norm tokens of an unmasked pass: ``(B, L, C)``, or
        ``(B, 1, C)`` (class token) with ``cls_only_last_block``."""
        if not self.cls_only_last_block:
            return encoder(inputs, mask=None)[-1]
        with cls_only_last_layer(encoder):
            return encoder(inputs, mask=None)[-1]
