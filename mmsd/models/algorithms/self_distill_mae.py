# Copyright (c) mmsd contributors. All rights reserved.
from contextlib import ExitStack
from typing import Dict, List, Optional

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from ..teacher import SelfDistillMixin, TeacherFeatureCache
from ..utils import check_non_negative, cls_only_last_layer, recomputed_layers
from .further_pretrain_mae import FurtherPretrainMAE


@MODELS.register_module()
class SelfDistillMAE(SelfDistillMixin, FurtherPretrainMAE):
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
    The stages are those of :class:`mmsd.models.SelfDistillMixin`: the
    student encoder is the ``backbone`` and it restarts, with the decoder,
    from ``init_checkpoint`` (or, with ``restart_from='teacher'``, keeps
    its decoder and starts its encoder from the teacher).

    The teacher runs every step unless :class:`mmsd.engine.TeacherCacheHook`
    found the training pipeline deterministic and handed the model a
    :class:`TeacherFeatureCache` (:meth:`use_teacher_cache`): then the
    teacher's representation of each training sample is computed once and
    reused.

    Args:
        distill_head (dict): Config of the distillation loss head; the type
            defaults to :class:`SelfDistillHead`, so ``dict(loss_weight=2.)``
            is enough. Defaults to ``dict(type='SelfDistillHead')``.
        teacher_checkpoint (str, optional): Checkpoint of the further
            pre-trained encoder (``backbone.*`` keys: a training checkpoint or
            one written by ``tools/export_backbone.py``). Defaults to None.
        cls_only_last_block (bool, optional): Compute the last block of the
            unmasked passes for the class token only (exact, less work).
            Defaults to None: on when the distilled representation is the
            class token.
        student_recompute_layers (int): Recompute this many first layers of
            the student's unmasked pass in the backward pass instead of
            keeping their activations (exact; less memory, one more forward
            of those layers). Defaults to 0.
        restart_from (str): Where the student restarts when a round of
            self-distillation starts: ``'initial'`` (``init_checkpoint``,
            the paper) or ``'teacher'`` (the encoder starts as the teacher,
            the decoder as it was; with ``teacher_checkpoint``, the initial
            decoder). Defaults to 'initial'.
        mae_loss_weight (float): Weight of ``loss_mae`` while distilling
            (further pre-training always uses 1). With 0 the masked pass is
            skipped: no ``loss_mae``, and the decoder gets no gradient and
            stays as it is. Defaults to 1.0.
        **kwargs: Arguments of :class:`FurtherPretrainMAE`.
    """

    def __init__(self,
                 distill_head: dict = dict(type='SelfDistillHead'),
                 teacher_checkpoint: Optional[str] = None,
                 cls_only_last_block: Optional[bool] = None,
                 student_recompute_layers: int = 0,
                 restart_from: str = 'initial',
                 mae_loss_weight: float = 1.0,
                 **kwargs) -> None:
        if 'teacher_cache' in kwargs:
            raise TypeError(_moved_teacher_cache(kwargs['teacher_cache']))
        super().__init__(**kwargs)
        self.init_self_distill(kwargs['backbone'], teacher_checkpoint,
                               distill_head, restart_from)
        check_non_negative('SelfDistillMAE', mae_loss_weight=mae_loss_weight)
        self.mae_loss_weight = float(mae_loss_weight)
        cls_token = self.distill_head.representation == 'cls_token'
        if cls_only_last_block and not cls_token:
            raise ValueError('SelfDistillMAE: cls_only_last_block=True needs '
                             "distill_head.representation='cls_token', got "
                             f'{self.distill_head.representation!r}.')
        self.cls_only_last_block = (
            cls_token if cls_only_last_block is None else cls_only_last_block)
        num_layers = len(self.backbone.layers)
        if not 0 <= student_recompute_layers <= num_layers:
            raise ValueError(
                'SelfDistillMAE: student_recompute_layers='
                f'{student_recompute_layers} is not in [0, {num_layers}].')
        self.student_recompute_layers = student_recompute_layers

    @property
    def student_encoder(self) -> nn.Module:
        return self.backbone

    @property
    def initial_weights(self) -> Optional[str]:
        return self.init_checkpoint

    def unused_in_distill(self) -> List[str]:
        return ['neck'] if self.mae_loss_weight == 0 else []

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_mae`` (weighted by ``mae_loss_weight`` while distilling,
        absent at weight 0), plus ``loss_distill`` once distillation is
        on."""
        losses = {}
        if not self.distill_enabled or self.mae_loss_weight > 0:
            losses = super().loss(inputs, data_samples, **kwargs)
        if self.distill_enabled:
            if 0 < self.mae_loss_weight != 1:
                losses['loss_mae'] = self.mae_loss_weight * losses['loss_mae']
            student = self.unmasked_tokens(self.backbone, inputs,
                                           self.student_recompute_layers)
            teacher = self.teacher_features(inputs)
            losses['loss_distill'] = self.distill_head.loss(student, teacher)
        return losses

    def use_teacher_cache(self, cache: Optional[TeacherFeatureCache]) -> None:
        """Look the teacher's features up in ``cache`` (None: run the
        teacher every step). Called by :class:`mmsd.engine.TeacherCacheHook`
        only for a deterministic training pipeline."""
        self.teacher_cache = cache

    def teacher_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """The teacher's distilled representation of ``inputs`` (no grad),
        from the cache if the model has one."""
        cache = self.teacher_cache
        if cache is None:
            with torch.no_grad():
                return self._teacher_representation(inputs)
        return cache.features(
            self.teacher,
            self._teacher_representation,
            inputs,
            tag=(self.distill_head.representation,
                 self.distill_head.num_extra_tokens, self.cls_only_last_block))

    def _teacher_representation(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.distill_head.select(
            self.unmasked_tokens(self.teacher, inputs))

    def unmasked_tokens(self,
                        encoder: nn.Module,
                        inputs: torch.Tensor,
                        recompute_layers: int = 0) -> torch.Tensor:
        """Final-norm tokens of an unmasked pass: ``(B, L, C)``, or
        ``(B, 1, C)`` (class token) with ``cls_only_last_block``; the first
        ``recompute_layers`` layers are recomputed in the backward pass."""
        with ExitStack() as stack:
            if self.cls_only_last_block:
                stack.enter_context(cls_only_last_layer(encoder))
            stack.enter_context(recomputed_layers(encoder, recompute_layers))
            return encoder(inputs, mask=None)[-1]


def _moved_teacher_cache(value: object) -> str:
    """The error for a config that still sets ``model.teacher_cache``."""
    if value is False or value is None:
        todo = ('delete model.teacher_cache and leave TeacherCacheHook out '
                'of custom_hooks (remove it from custom_hooks if a base '
                'config adds it)')
    else:
        args = ''
        if isinstance(value, dict) and value:
            args = ', ' + ', '.join(f'{k}={v!r}' for k, v in value.items())
        todo = ('delete model.teacher_cache and put '
                f"dict(type='TeacherCacheHook'{args}) in custom_hooks")
    return (f'SelfDistillMAE: model.teacher_cache={value!r} is no longer an '
            'argument: TeacherCacheHook alone switches the teacher-feature '
            'cache on (only for a deterministic training pipeline) and takes '
            f'its arguments (device, max_entries). To keep the behaviour, '
            f'{todo}.')
