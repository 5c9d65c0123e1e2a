# Copyright (c) mmsd contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from transformers import AutoModelForSequenceClassification

from mmsd.models.classifiers import FinetuneRegularizerMixin
from ..hf_loading import build_hf_model
from .text_data_preprocessor import build_text_preprocessor


@MODELS.register_module()
class HFSequenceClassifier(FinetuneRegularizerMixin, BaseModel):
    """A transformers sequence classifier that trains, predicts and is
    evaluated like an MMPretrain classifier.

    Wraps any ``AutoModelForSequenceClassification`` (BERT, RoBERTa, ...)
    from a local directory (e.g. the student exported by a
    self-distillation run) or a config. Its logits go through an MMPretrain
    head without parameters (:class:`mmpretrain.models.ClsHead` by
    default), which computes the loss and fills ``pred_score`` and
    ``pred_label``, so MMPretrain's metrics (``Accuracy``,
    ``SingleLabelMetric``) work unchanged. Stage 3 of `Self-Distillation for
    Further Pre-training of Transformers
    <https://arxiv.org/abs/2210.02871>`_ for text.

    Args:
        num_classes (int): Number of classes.
        model_name_or_path (str, optional): Local model directory.
            Defaults to None.
        config (dict, optional): ``AutoConfig.for_model`` arguments of a
            random model, when ``model_name_or_path`` is None.
            Defaults to None.
        tokenizer (str, optional): Local tokenizer directory. Defaults to
            None: ``model_name_or_path``.
        model_kwargs (dict, optional): Config attributes to change when
            loading, e.g. ``dict(num_hidden_layers=3)`` to keep only the
            bottom 3 layers of the model. Defaults to None.
        reinit_modules (Sequence[str]): Dotted names of submodules of the
            transformers model to re-initialise with its own initializer,
            e.g. ``('bert.pooler', )``: a BERT exported from masked language
            modelling has no trained pooler, so comparing it with the
            original BERT is fair only when every run starts from a new
            pooler. Defaults to ().
        regularizers (Sequence[dict], optional): Fine-tuning regularisers
            adding loss terms (L2-SP, R3F; the baselines of the paper), see
            :class:`mmsd.models.FinetuneRegularizerMixin`. Defaults to None.
        head (dict): The loss and prediction head on the logits.
            Defaults to ``dict(type='ClsHead',
            loss=dict(type='CrossEntropyLoss'))``.
        data_preprocessor (dict, optional): Extra arguments of
            :class:`TextDataPreprocessor`. Defaults to None.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 num_classes: int,
                 model_name_or_path: Optional[str] = None,
                 config: Optional[dict] = None,
                 tokenizer: Optional[str] = None,
                 model_kwargs: Optional[dict] = None,
                 reinit_modules: Sequence[str] = (),
                 regularizers: Optional[Sequence[dict]] = None,
                 head: dict = dict(
                     type='ClsHead', loss=dict(type='CrossEntropyLoss')),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        tokenizer = tokenizer or model_name_or_path
        if tokenizer is None:
            raise ValueError('HFSequenceClassifier: set tokenizer (a local '
                             'directory) when model_name_or_path is None.')
        super().__init__(
            data_preprocessor=build_text_preprocessor(
                tokenizer, **(data_preprocessor or {})),
            init_cfg=init_cfg)
        self.model_name_or_path = model_name_or_path
        self.num_classes = num_classes
        self.hf_model = build_hf_model(
            AutoModelForSequenceClassification,
            model_name_or_path,
            config,
            num_labels=num_classes,
            **(model_kwargs or {}))
        for name in reinit_modules:
            self.hf_model.get_submodule(name).apply(
                self.hf_model._init_weights)
        self.head = MODELS.build(head)
        self.init_regularizers(regularizers)

    def forward_logits(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Class logits ``(B, num_classes)`` of a padded batch."""
        return self.hf_model(**inputs).logits

    def forward(self,
                inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor') -> Union[Dict, List, torch.Tensor]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        logits = self.forward_logits(inputs)
        if mode == 'tensor':
            return logits
        if mode == 'predict':
            return self.head.predict((logits, ), data_samples)
        raise RuntimeError(f'Invalid mode "{mode}".')

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """The head's loss on the logits (cross-entropy by default), plus
        the regularisers' terms."""
        logits = self.forward_logits(inputs)
        losses = self.head.loss((logits, ), data_samples)
        losses.update(self.regularizer_losses(inputs, logits))
        return losses
