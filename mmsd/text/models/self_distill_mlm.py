# Copyright (c) mmsd contributors. All rights reserved.
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmpretrain.registry import MODELS
from torch import nn
from transformers import AutoModel, PreTrainedModel

from mmsd.models.teacher import SelfDistillMixin
from mmsd.models.utils import check_non_negative, load_checked
from ..hf_loading import check_local_dir
from .masked_lm import HFMaskedLM


class _Tensors(nn.Module):
    """Named tensors kept as buffers (checkpointed, moved with the model);
    dots in names become slashes."""

    def __init__(self, tensors: Dict[str, torch.Tensor]) -> None:
        super().__init__()
        for name, tensor in tensors.items():
            self.register_buffer(name.replace('.', '/'), tensor.clone())

    def copy_from(self, tensors: Dict[str, torch.Tensor]) -> None:
        for name, tensor in tensors.items():
            self.get_buffer(name.replace('.', '/')).copy_(tensor)

    def tensors(self) -> Dict[str, torch.Tensor]:
        return {
            name.replace('/', '.'): tensor
            for name, tensor in self.named_buffers()
        }


@MODELS.register_module()
class SelfDistillMLM(SelfDistillMixin, HFMaskedLM):
    """Masked language modelling with self-distillation towards a frozen
    further-pre-trained encoder.

    Implementation of `Self-Distillation for Further Pre-training of
    Transformers <https://arxiv.org/abs/2210.02871>`_ for text, as the
    paper's RoBERTa experiments. The student (encoder and MLM head) starts
    from ``model_name_or_path``; the teacher is a frozen copy of the
    encoder, in eval mode. The loss is ``loss_mlm`` on the masked input
    plus ``loss_distill`` between the student's and the teacher's hidden
    states (first token by default) on the **unmasked** input.

    The teacher comes from ``teacher_checkpoint`` or, in a two-stage run,
    from :meth:`start_distill` (called by
    :class:`mmsd.engine.SelfDistillStageHook`), which also restarts the
    student from the initial model: the stages are those of
    :class:`mmsd.models.SelfDistillMixin`, with the transformer under the
    MLM head as the student encoder. The stage-1 MLM head is kept at the
    switch, so that :attr:`further_pretrained_mlm` is the whole
    further-pre-trained model.

    Args:
        distill_head (dict): Config of the distillation loss
            (:class:`mmsd.models.SelfDistillHead`, the default type;
            ``'mean_patch'`` with ``num_extra_tokens=0`` is a padding-aware
            mean pool).
            Defaults to ``dict(type='SelfDistillHead')``.
        teacher_checkpoint (str, optional): The further pre-trained model:
            a transformers directory (``save_pretrained``) or an MMEngine
            checkpoint of an :class:`HFMaskedLM` run. Defaults to None.
        hidden_layer (int): Which hidden state is distilled: -1 is the
            last layer's output, 0 the embeddings. Defaults to -1.
        teacher_ignore_keys (Sequence[str]): ``fnmatch`` patterns of teacher
            keys a transformers directory may hold in addition, such as a
            BERT pooler. Defaults to ``('pooler.*', )``.
        restart_from (str): Where the student restarts when a round of
            self-distillation starts: ``'initial'`` (the initial model, the
            paper) or ``'teacher'`` (the encoder starts as the teacher, the
            MLM head as it was). Defaults to 'initial'.
        mlm_loss_weight (float): Weight of ``loss_mlm`` while distilling
            (further pre-training always uses 1). With 0 the masked pass is
            skipped: no ``loss_mlm``, and the MLM head gets no gradient and
            stays as it is. Defaults to 1.0.
        **kwargs: Arguments of :class:`HFMaskedLM`; ``model_name_or_path``
            is required.
    """

    initial_weights_arg = 'model_name_or_path'

    def __init__(self,
                 distill_head: dict = dict(type='SelfDistillHead'),
                 teacher_checkpoint: Optional[str] = None,
                 hidden_layer: int = -1,
                 teacher_ignore_keys: Sequence[str] = ('pooler.*', ),
                 restart_from: str = 'initial',
                 mlm_loss_weight: float = 1.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if self.model_name_or_path is None:
            raise ValueError('SelfDistillMLM needs model_name_or_path: the '
                             'student starts (and restarts) from it.')
        self.init_self_distill(
            copy.deepcopy(self.encoder), teacher_checkpoint, distill_head,
            restart_from)
        check_non_negative('SelfDistillMLM', mlm_loss_weight=mlm_loss_weight)
        self.mlm_loss_weight = float(mlm_loss_weight)
        # The MLM head the teacher was trained with (set at the switch).
        self.teacher_head = _Tensors(self._head_weights())
        self.register_buffer('teacher_head_set', torch.tensor(False))
        self.hidden_layer = hidden_layer
        self.teacher_ignore_keys = tuple(teacher_ignore_keys)

    @property
    def student_encoder(self) -> nn.Module:
        return self.encoder

    def _head_weights(self) -> Dict[str, torch.Tensor]:
        """The student's weights outside its encoder, except those tied to
        encoder weights (e.g. the decoder tied to the word embeddings)."""
        encoder = {t.data_ptr() for t in self.encoder.state_dict().values()}
        prefix = f'{self.hf_model.base_model_prefix}.'
        return {
            key: value
            for key, value in self.hf_model.state_dict().items()
            if not key.startswith(prefix) and value.data_ptr() not in encoder
        }

    def start_distill(
            self,
            teacher_state: Optional[Dict[str, torch.Tensor]] = None) -> None:
        """Keep the MLM head trained with the new teacher, then switch. A
        given ``teacher_state`` (a snapshot of the encoder) comes without
        the head of its step: then no head is kept."""
        if teacher_state is None:
            self.teacher_head.copy_from(self._head_weights())
        self.teacher_head_set.fill_(teacher_state is None)
        super().start_distill(teacher_state)

    @property
    def further_pretrained_mlm(self) -> PreTrainedModel:
        """The further-pre-trained model as a whole transformers MLM: the
        teacher encoder and the MLM head trained with it in stage 1. A
        teacher loaded from ``teacher_checkpoint`` has no head here: then
        the teacher encoder alone, which ``AutoModel`` loads."""
        if not bool(self.teacher_head_set):
            print_log(
                'The teacher came from teacher_checkpoint or a snapshot, '
                'without the MLM head it was trained with: only its encoder '
                'is saved.',
                logger='current')
            return self.teacher
        model = copy.deepcopy(self.hf_model)
        prefix = f'{model.base_model_prefix}.'
        state = {
            prefix + key: value
            for key, value in self.teacher.state_dict().items()
        }
        state.update(self.teacher_head.tensors())
        missing, unexpected = model.load_state_dict(state, strict=False)
        tied = set(model.state_dict()) - set(state)
        if unexpected or set(missing) - tied:
            raise RuntimeError(
                'Assembling the further-pre-trained MLM failed: missing '
                f'{sorted(set(missing) - tied)}, unexpected {unexpected}.')
        return model

    @property
    def initial_weights(self) -> str:
        return self.model_name_or_path

    def load_teacher(self, path: str) -> None:
        """Load the teacher encoder from a transformers directory or an
        MMEngine checkpoint, every key and shape checked."""
        if not osp.isdir(path):
            prefix = f'hf_model.{self.hf_model.base_model_prefix}.'
            super().load_teacher(path, prefix)
            return
        check_local_dir(path, 'teacher_checkpoint')
        model, info = AutoModel.from_pretrained(
            path, local_files_only=True, output_loading_info=True)
        state = {
            key: value
            for key, value in model.state_dict().items()
            if key not in info['missing_keys']
        }
        load_checked(
            self.teacher,
            path,
            what='teacher',
            ignore_keys=self.teacher_ignore_keys,
            checkpoint=state)

    def unused_in_distill(self) -> List[str]:
        if self.mlm_loss_weight > 0:
            return []
        return [
            name for name, module in self.hf_model.named_children()
            if module is not self.encoder
        ]

    def loss(self,
             inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        """``loss_mlm`` (weighted by ``mlm_loss_weight`` while distilling,
        absent at weight 0), plus ``loss_distill`` once distillation is
        on."""
        losses = {}
        if not self.distill_enabled or self.mlm_loss_weight > 0:
            losses = super().loss(inputs, data_samples)
        if self.distill_enabled:
            if 0 < self.mlm_loss_weight != 1:
                losses['loss_mlm'] = self.mlm_loss_weight * losses['loss_mlm']
            clean = self.clean_inputs(inputs)
            student = self.hidden_states(self.encoder, clean)
            with torch.no_grad():
                teacher = self.hidden_states(self.teacher, clean)
            losses['loss_distill'] = self.distill_head.loss(
                student, teacher, mask=clean.get('attention_mask'))
        return losses

    def hidden_states(self, encoder: nn.Module,
                      inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """``(B, L, C)`` hidden states of layer ``hidden_layer``."""
        if self.hidden_layer == -1:
            return encoder(**inputs).last_hidden_state
        outputs = encoder(**inputs, output_hidden_states=True)
        return outputs.hidden_states[self.hidden_layer]
