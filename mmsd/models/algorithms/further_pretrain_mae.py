# Copyright (c) mmsd contributors. All rights reserved.
from typing import Dict, List, Optional

import torch
from mmpretrain.models import MAE
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmsd.utils import read_state_dict
from ..utils import load_checked


@MODELS.register_module()
class FurtherPretrainMAE(MAE):
    """MAE that continues pre-training from an initial checkpoint.

    Stage 1 of `Self-Distillation for Further Pre-training of Transformers
    <https://arxiv.org/abs/2210.02871>`_: the MAE objective on target-domain
    images, starting from a pre-trained encoder and decoder. The initial
    weights are loaded by the algorithm after all initializers ran (a
    backbone-level ``Pretrained`` init would be undone by ``MAEViT``, which
    re-initialises ``patch_embed`` and ``cls_token``), and every key and shape
    is checked.

    Args:
        init_checkpoint (str, optional): MMPretrain MAE checkpoint holding
            ``backbone.*`` (encoder) and ``neck.*`` (decoder) weights. If None,
            training starts from random weights. Defaults to None.
        **kwargs: Arguments of :class:`mmpretrain.models.MAE`.
    """

    def __init__(self, init_checkpoint: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.init_checkpoint = init_checkpoint

    def init_weights(self) -> None:
        """Run the configured initializers, then load the initial weights."""
        super().init_weights()
        if self.init_checkpoint is not None:
            self.load_initial_weights()

    def load_initial_weights(self) -> None:
        """Load the encoder and decoder of ``init_checkpoint``, checked."""
        if self.init_checkpoint is None:
            raise ValueError(f'{type(self).__name__} has no init_checkpoint '
                             'to load the initial weights from.')
        # One read of the file for both parts.
        checkpoint = read_state_dict(self.init_checkpoint, what='initial')
        for part in ('backbone', 'neck'):
            load_checked(
                getattr(self, part),
                self.init_checkpoint,
                f'{part}.',
                what='initial',
                checkpoint=checkpoint)

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """MAE reconstruction loss on a randomly masked pass."""
        losses = super().loss(inputs, data_samples, **kwargs)
        return dict(loss_mae=losses['loss'])
