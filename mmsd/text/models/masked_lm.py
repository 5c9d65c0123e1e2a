# Copyright (c) mmsd contributors. All rights reserved.
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmpretrain.registry import MODELS
from torch import nn
from transformers import AutoModelForMaskedLM

from ..hf_loading import build_hf_model
from .text_data_preprocessor import build_text_preprocessor


@MODELS.register_module()
class HFMaskedLM(BaseModel):
    """A transformers masked language model trained by MMEngine.

    Wraps any ``AutoModelForMaskedLM`` (BERT, RoBERTa, ...) from a local
    directory, or a randomly initialised one from a config, for the further
    pre-training stage of `Self-Distillation for Further Pre-training of
    Transformers <https://arxiv.org/abs/2210.02871>`_. The loss is
    ``loss_mlm``, the cross-entropy over the masked tokens. When the model
    has a single head on top of its encoder (BERT's ``cls``, RoBERTa's
    ``lm_head``), the vocabulary logits are computed for the masked tokens
    only: the same loss, without the ~85 % wasted vocabulary projections.

    Args:
        model_name_or_path (str, optional): Local model directory.
            Defaults to None.
        config (dict, optional): ``AutoConfig.for_model`` arguments of a
            random model, when ``model_name_or_path`` is None.
            Defaults to None.
        tokenizer (str, optional): Local tokenizer directory. Defaults to
            None: ``model_name_or_path``.
        mlm_probability (float): Masking rate. Defaults to 0.15.
        masked_only_logits (bool): Project only the masked tokens onto the
            vocabulary. Defaults to True.
        data_preprocessor (dict, optional): Extra arguments of
            :class:`TextDataPreprocessor`. Defaults to None.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 model_name_or_path: Optional[str] = None,
                 config: Optional[dict] = None,
                 tokenizer: Optional[str] = None,
                 mlm_probability: float = 0.15,
                 masked_only_logits: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        tokenizer = tokenizer or model_name_or_path
        if tokenizer is None:
            raise ValueError(f'{type(self).__name__}: set tokenizer (a local '
                             'directory) when model_name_or_path is None.')
        super().__init__(
            data_preprocessor=build_text_preprocessor(
                tokenizer,
                mlm_probability=mlm_probability,
                **(data_preprocessor or {})),
            init_cfg=init_cfg)
        self.model_name_or_path = model_name_or_path
        self.hf_model, self.missing_keys = build_hf_model(
            AutoModelForMaskedLM,
            model_name_or_path,
            config,
            output_loading_info=True)
        # The weights the directory lacked (e.g. a new MLM head) were drawn
        # at random: keep them to restart from exactly the same model.
        state = self.hf_model.state_dict()
        self.untrained_weights = {
            key: state[key].detach().clone()
            for key in self.missing_keys
        }
        # A name, not a module: the head must not appear twice in the
        # state dict.
        self.mlm_head_name = (
            self._single_head_name() if masked_only_logits else None)

    @property
    def encoder(self) -> nn.Module:
        """The transformer without its language-model head."""
        return self.hf_model.base_model

    @property
    def student_encoder(self) -> nn.Module:
        """The encoder being trained (:attr:`encoder`)."""
        return self.encoder

    def initial_state(self) -> Optional[Dict[str, torch.Tensor]]:
        """The whole model's initial weights: ``model_name_or_path`` and
        the weights it lacked as first drawn (None without a directory)."""
        if self.model_name_or_path is None:
            return None
        state = build_hf_model(AutoModelForMaskedLM,
                               self.model_name_or_path).state_dict()
        state.update(self.untrained_weights)
        return state

    def initial_encoder_state(self) -> Optional[Dict[str, torch.Tensor]]:
        """The initial weights of :attr:`encoder` (None without
        ``model_name_or_path``), e.g. to measure how far training moved
        it."""
        state = self.initial_state()
        if state is None:
            return None
        prefix = self.hf_model.base_model_prefix + '.'
        return {
            key[len(prefix):]: value
            for key, value in state.items() if key.startswith(prefix)
        }

    def load_initial_weights(self) -> None:
        """Restart the model from its initial weights."""
        state = self.initial_state()
        if state is None:
            raise ValueError(f'{type(self).__name__} has no '
                             'model_name_or_path to load the initial '
                             'weights from.')
        self.hf_model.load_state_dict(state)

    def _single_head_name(self) -> Optional[str]:
        heads = [
            name for name, module in self.hf_model.named_children()
            if module is not self.encoder
        ]
        if len(heads) == 1:
            return heads[0]
        print_log(
            f'{type(self.hf_model).__name__} has no single MLM head; logits '
            'are computed for every token.',
            logger='current')
        return None

    def forward(self,
                inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List] = None,
                mode: str = 'tensor') -> Union[Dict, torch.Tensor]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.hf_model(**self.clean_inputs(inputs)).logits
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss and '
                           'tensor mode.')

    def loss(self,
             inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        return dict(loss_mlm=self.mlm_loss(inputs))

    def mlm_loss(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean cross-entropy over the masked tokens (``labels != -100``)."""
        if 'labels' not in inputs:
            raise KeyError('The MLM loss needs masked inputs with "labels"; '
                           'set mlm_probability in the data preprocessor.')
        if self.mlm_head_name is None:
            return self.hf_model(**inputs).loss
        labels = inputs['labels']
        encoder_inputs = {k: v for k, v in inputs.items() if k != 'labels'}
        hidden = self.encoder(**encoder_inputs).last_hidden_state
        masked = labels != -100
        if not masked.any():  # nothing to predict; keep the graph
            return hidden.sum() * 0
        head = getattr(self.hf_model, self.mlm_head_name)
        logits = head(hidden[masked])
        return F.cross_entropy(logits.float(), labels[masked])

    @staticmethod
    def clean_inputs(
            inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The unmasked inputs: masked positions get their label back."""
        inputs = dict(inputs)
        labels = inputs.pop('labels', None)
        if labels is not None:
            inputs['input_ids'] = torch.where(labels != -100, labels,
                                              inputs['input_ids'])
        return inputs
