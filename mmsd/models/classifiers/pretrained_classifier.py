# Copyright (c) mmsd contributors. All rights reserved.
from typing import List, Optional, Sequence

import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils import load_checked
from .finetune_regularizer import FinetuneRegularizerMixin


@MODELS.register_module()
class PretrainedImageClassifier(FinetuneRegularizerMixin, ImageClassifier):
    """Image classifier whose backbone starts from a checked checkpoint.

    Stage 3 of `Self-Distillation for Further Pre-training of Transformers
    <https://arxiv.org/abs/2210.02871>`_ fine-tunes the exported encoder. The
    weights are loaded after all initializers ran and every key and shape is
    checked, unlike a backbone-level ``Pretrained`` init.

    Args:
        backbone_checkpoint (str, optional): Checkpoint with ``backbone.*``
            weights, e.g. written by ``tools/export_backbone.py``. If None,
            the backbone starts from its initializers. Defaults to None.
        ignore_keys (Sequence[str]): ``fnmatch`` patterns of backbone keys
            that may be missing or extra, e.g. ``['ln2.*']`` for an
            average-pooling backbone. Defaults to ().
        regularizers (Sequence[dict], optional): Fine-tuning regularisers
            adding loss terms, e.g. ``[dict(type='L2SPRegularizer')]``
            (see :class:`FinetuneRegularizerMixin`). Defaults to None.
        **kwargs: Arguments of :class:`mmpretrain.models.ImageClassifier`.
    """

    def __init__(self,
                 backbone_checkpoint: Optional[str] = None,
                 ignore_keys: Sequence[str] = (),
                 regularizers: Optional[Sequence[dict]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.backbone_checkpoint = backbone_checkpoint
        self.ignore_keys = tuple(ignore_keys)
        self.init_regularizers(regularizers)

    def init_weights(self) -> None:
        """Run the configured initializers, then load the backbone."""
        super().init_weights()
        if self.backbone_checkpoint is not None:
            load_checked(
                self.backbone,
                self.backbone_checkpoint,
                'backbone.',
                what='backbone',
                ignore_keys=self.ignore_keys)

    def forward_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits of a batch of images: the head on the backbone feature
        (MMPretrain's ``ClsHead.forward`` returns the class scores before
        softmax)."""
        return self.head(self.extract_feat(inputs))

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """The head's loss, plus the regularisers' terms if any."""
        if not self.regularizers:
            return super().loss(inputs, data_samples)
        logits = self.forward_logits(inputs)
        # ClsHead.loss is ``_get_loss(self(feats), data_samples)``; the
        # logits are computed once and shared with the regularisers.
        losses = self.head._get_loss(logits, data_samples)
        losses.update(self.regularizer_losses(inputs, logits))
        return losses
