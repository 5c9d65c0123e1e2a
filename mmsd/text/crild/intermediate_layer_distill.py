# Copyright (c) mmsd contributors. All rights reserved.
import copy
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmpretrain.registry import MODELS
from torch import nn
from transformers import AutoModel

from mmsd.models import FrozenTeacherMixin, freeze
from ..hf_loading import build_hf_model
from ..models.text_data_preprocessor import build_text_preprocessor
from .consistency import (check_ramp_iters, consistency_loss, ramped_weight,
                          update_ema)
from .mixup import mix_with_reversed, mixup_lambda, union_mask
from .objectives import OBJECTIVES, layer_features, objective_loss


def load_encoder(path: str, what: str, **kwargs) -> nn.Module:
    """A transformers encoder (``AutoModel``, eager attention so that the
    attention maps are returned) whose every layer came from ``path``; only
    a pooler may be new."""
    model, missing = build_hf_model(
        AutoModel,
        path,
        output_loading_info=True,
        attn_implementation='eager',
        **kwargs)
    missing = [key for key in missing if not key.startswith('pooler.')]
    if missing:
        raise ValueError(f'The {what} {path!r} lacks {len(missing)} weights '
                         f'of the model to build, e.g. {missing[:3]}; is '
                         'num_student_layers larger than its depth?')
    return model


@MODELS.register_module()
class IntermediateLayerDistill(FrozenTeacherMixin, BaseModel):
    """Intermediate-layer distillation of a fine-tuned transformer into the
    bottom layers of its pre-trained model, with mixup consistency.

    Implementation of stage A of `Towards Robust Intermediate Layer
    Distillation (CR-ILD) <https://aclanthology.org/2023.eacl-main.75>`_,
    and of its baselines by config: last-layer ILD without mixup
    (``mixup=None``) and TinyBERT-style layer-to-layer ILD
    (``layer_map='uniform'``, ``mixup=None``).

    The student is the embeddings and bottom ``num_student_layers`` layers
    of a **pre-trained** model; the teacher (frozen, eval mode) a fine-tuned
    one. Objectives (:data:`mmsd.text.crild.objectives.OBJECTIVES`), per
    mapped layer pair: ``'attention'``: KL between the attention maps;
    ``'hidden'``: MSE between hidden states, the student's through a learned
    linear map; ``'qkv'``: KL between the query, key and value
    self-relations (MiniLMv2). With ``mixup``, teacher and student see the
    same embedding-level mixup of each sample with its partner in the
    reversed batch (λ ~ Beta(α, α), λ >= 0.5, union of attention masks).
    With ``consistency``, a no-grad pass of the student (or of its EMA) on
    the clean inputs gives, for **every** selected objective, the
    interpolation λ·clean_i + (1-λ)·clean_rev(i) that the mixed-input
    student must match: ``loss_consistency``, weight ramped up linearly
    (logged as ``consistency_weight``).

    Validation (``mode='predict'``) measures how far the student is from
    the teacher on clean inputs (no mixup): the batch's loss of every
    objective over its layer pairs (``loss_attention``, ...) and over the
    last pair only (``last_attention``, ...; the quantity every layer map
    distils), returned in MMEngine's validation-loss protocol, so a val
    loop on held-out texts and on the training texts
    (:class:`mmsd.engine.MultiSplitValLoop`) shows where the student starts
    to memorise its training set.

    Args:
        student (str): Local directory of the pre-trained model.
        teacher (str): Local directory of the fine-tuned model.
        num_student_layers (int): Layers kept from the bottom of the
            pre-trained model. Defaults to 6.
        objectives (Sequence[str]): Any of ``'attention'``, ``'hidden'``,
            ``'qkv'``. Defaults to ``('attention', 'hidden')``.
        layer_map (str): ``'last'`` (the student's last layer to the
            teacher's) or ``'uniform'`` (student layer i to teacher layer
            i·k, and the embeddings for ``'hidden'``). Defaults to 'last'.
        mixup (dict, optional): ``dict(alpha=...)``; None disables mixup
            and consistency. Defaults to ``dict(alpha=1.0)``.
        consistency (dict, optional): ``weight``, ``ramp_iters`` (linear
            ramp of the weight from 0 over this many iterations, or
            ``'all'``: over the whole run) and ``ema_momentum`` (None: the
            current student gives the targets). None disables it.
            Defaults to ``dict(weight=0.1, ramp_iters=0)``.
        relation_heads (int, optional): Heads of the ``'qkv'`` relations.
            Defaults to None: the student's attention heads.
        tokenizer (str, optional): Defaults to None: ``student``.
        data_preprocessor (dict, optional): Extra arguments of
            :class:`TextDataPreprocessor`. Defaults to None.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 student: str,
                 teacher: str,
                 num_student_layers: int = 6,
                 objectives: Sequence[str] = ('attention', 'hidden'),
                 layer_map: str = 'last',
                 mixup: Optional[dict] = dict(alpha=1.0),
                 consistency: Optional[dict] = dict(weight=0.1, ramp_iters=0),
                 relation_heads: Optional[int] = None,
                 tokenizer: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=build_text_preprocessor(
                tokenizer or student, **(data_preprocessor or {})),
            init_cfg=init_cfg)
        unknown = set(objectives) - set(OBJECTIVES)
        if unknown or not objectives:
            raise ValueError(f'objectives={tuple(objectives)}: choose from '
                             f'{tuple(OBJECTIVES)}.')
        self.objectives = tuple(objectives)
        self.student = load_encoder(
            student, 'student', num_hidden_layers=num_student_layers)
        for name, param in self.student.named_parameters():
            if name.startswith('pooler.'):  # not distilled: kept as loaded
                param.requires_grad_(False)
        self.build_teacher(load_encoder(teacher, 'teacher'))
        self.layer_pairs = self._layer_pairs(
            layer_map, num_student_layers,
            self.teacher.config.num_hidden_layers)
        self.hidden_pairs = self.layer_pairs
        if layer_map == 'uniform':
            self.hidden_pairs = [(0, 0), *self.layer_pairs]
        if 'hidden' in self.objectives:
            self.hidden_map = nn.Linear(self.student.config.hidden_size,
                                        self.teacher.config.hidden_size)
        self.relation_heads = (
            relation_heads or self.student.config.num_attention_heads)
        unknown = set(consistency
                      or {}) - {'weight', 'ramp_iters', 'ema_momentum'}
        if unknown:
            raise ValueError(f'consistency: unknown keys {sorted(unknown)}; '
                             "use 'weight', 'ramp_iters' and 'ema_momentum'.")
        check_ramp_iters((consistency or {}).get('ramp_iters', 0))
        self.mixup = mixup
        self.consistency = consistency if mixup else None
        self.ema_student = None
        if self.consistency and self.consistency.get('ema_momentum'):
            self.ema_student = freeze(copy.deepcopy(self.student))

    @staticmethod
    def _layer_pairs(layer_map: str, student_layers: int,
                     teacher_layers: int) -> List[Tuple[int, int]]:
        if layer_map == 'last':
            return [(student_layers, teacher_layers)]
        if layer_map == 'uniform':
            if teacher_layers % student_layers:
                raise ValueError(f'layer_map="uniform" needs the teacher '
                                 f'depth ({teacher_layers}) to be a multiple '
                                 f'of the student depth ({student_layers}).')
            step = teacher_layers // student_layers
            return [(i, i * step) for i in range(1, student_layers + 1)]
        raise ValueError(f"layer_map={layer_map!r}: use 'last' or "
                         "'uniform'.")

    def forward(self,
                inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List] = None,
                mode: str = 'loss'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.student(**inputs).last_hidden_state
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           'predict and tensor mode.')

    def _layers(self, side: int) -> Dict[str, List[int]]:
        """Per objective, the layers of the student (``side=0``) or the
        teacher (``side=1``) it compares."""
        return {
            name: [
                pair[side] for pair in (self.hidden_pairs if OBJECTIVES[name].
                                        with_embeddings else self.layer_pairs)
            ]
            for name in self.objectives
        }

    def loss(self,
             inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        ids, mask = inputs['input_ids'], inputs['attention_mask']
        if self.training and self.ema_student is not None:
            update_ema(self.ema_student, self.student,
                       self.consistency['ema_momentum'])
        student_in = teacher_in = dict(input_ids=ids)
        lam, mixed_mask = None, mask
        if self.mixup:
            lam = mixup_lambda(len(ids), self.mixup.get('alpha', 1.0))
            lam = lam.to(ids.device)
            mixed_mask = union_mask(mask)
            student_in = dict(
                inputs_embeds=mix_with_reversed(
                    self.student.get_input_embeddings()(ids), lam))
            teacher_in = dict(
                inputs_embeds=mix_with_reversed(
                    self.teacher.get_input_embeddings()(ids), lam))
        student = layer_features(self.student, self._layers(0), mixed_mask,
                                 self.relation_heads, **student_in)
        with torch.no_grad():
            teacher = layer_features(self.teacher, self._layers(1), mixed_mask,
                                     self.relation_heads, **teacher_in)
        mapped = dict(student)
        if 'hidden' in mapped:  # the learned map serves the teacher term
            mapped['hidden'] = [self.hidden_map(h) for h in student['hidden']]
        losses = {
            f'loss_{name}':
            objective_loss(name, mapped[name], teacher[name], mixed_mask)
            for name in self.objectives
        }
        if self.consistency:
            weight = ramped_weight(
                self.consistency.get('weight', 0.1),
                self.consistency.get('ramp_iters', 0))
            losses['loss_consistency'] = weight * self.consistency_loss(
                student, ids, mask, mixed_mask, lam)
            # Logged, not summed (the key holds no 'loss').
            losses['consistency_weight'] = torch.tensor(float(weight))
        return losses

    def consistency_loss(self, student: dict, ids: torch.Tensor,
                         mask: torch.Tensor, mixed_mask: torch.Tensor,
                         lam: torch.Tensor) -> torch.Tensor:
        """The unweighted consistency term on a clean pass of the student
        (or of its EMA)."""
        encoder = self.ema_student or self.student
        with torch.no_grad():
            clean = layer_features(
                encoder,
                self._layers(0),
                mask,
                self.relation_heads,
                input_ids=ids)
        return consistency_loss(self.objectives, student, clean, lam,
                                mixed_mask)

    @torch.no_grad()
    def predict(self,
                inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List] = None) -> List[BaseDataElement]:
        """The clean-input distillation losses of the batch, as MMEngine's
        val loops collect them: ``[BaseDataElement(loss=...)]`` with, per
        objective, ``loss_{name}`` (its layer pairs) and ``last_{name}``
        (the last pair only)."""
        ids, mask = inputs['input_ids'], inputs['attention_mask']
        student = layer_features(
            self.student,
            self._layers(0),
            mask,
            self.relation_heads,
            input_ids=ids)
        teacher = layer_features(
            self.teacher,
            self._layers(1),
            mask,
            self.relation_heads,
            input_ids=ids)
        if 'hidden' in student:
            student['hidden'] = [self.hidden_map(h) for h in student['hidden']]
        losses = {}
        for name in self.objectives:
            losses[f'loss_{name}'] = objective_loss(name, student[name],
                                                    teacher[name], mask)
            losses[f'last_{name}'] = objective_loss(name, student[name][-1:],
                                                    teacher[name][-1:], mask)
        return [BaseDataElement(loss=losses)]
