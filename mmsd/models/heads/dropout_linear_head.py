# Copyright (c) mmsd contributors. All rights reserved.
from typing import Tuple

import torch
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from torch import nn


@MODELS.register_module()
class DropoutLinearClsHead(LinearClsHead):
    """Linear classification head with dropout on its input feature.

    The fine-tuning head of `Self-Distillation for Further Pre-training of
    Transformers <https://arxiv.org/abs/2210.02871>`_: dropout then a linear
    layer on the final-norm class token.

    Args:
        dropout_rate (float): Dropout probability. Defaults to 0.1.
        **kwargs: Arguments of :class:`mmpretrain.models.LinearClsHead`.
    """

    def __init__(self, dropout_rate: float = 0.1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dropout = nn.Dropout(dropout_rate)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Apply dropout to the last stage's feature."""
        return self.dropout(super().pre_logits(feats))
