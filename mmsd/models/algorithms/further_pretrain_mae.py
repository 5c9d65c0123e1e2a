# Copyright (c) mmsd contributors. All rights reserved.
from typing import Dict, List, Optional

import torch
from mmengine.dist import broadcast
from mmengine.logging import print_log
from mmengine.model import BaseModule, initialize
from mmpretrain.models import MAE
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

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

    A checkpoint holding only an encoder (e.g. converted from ``ViTModel``,
    timm or DINOv2 weights) gets a decoder initialised by the config's
    initialisers from the run's seed (``torch.initial_seed()``, rank 0's on
    every process), so that it is the same at every load: at the start, on
    resuming, and when stage 2 restarts the student.

    Args:
        init_checkpoint (str, optional): MMPretrain MAE checkpoint holding
            ``backbone.*`` (encoder) and, optionally, ``neck.*`` (decoder)
            weights. If None, training starts from random weights. Defaults
            to None.
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

    @property
    def student_encoder(self) -> nn.Module:
        """The encoder being trained (the ``backbone``)."""
        return self.backbone

    def initial_encoder_state(self) -> Optional[Dict[str, torch.Tensor]]:
        """The encoder's weights in ``init_checkpoint`` (None without one),
        e.g. to measure how far training moved it."""
        if self.init_checkpoint is None:
            return None
        return read_state_dict(
            self.init_checkpoint, 'backbone.', what='initial')

    def load_initial_weights(self) -> None:
        """Load the encoder and decoder of ``init_checkpoint``, checked; a
        file without a decoder gets one from the seed."""
        if self.init_checkpoint is None:
            raise ValueError(f'{type(self).__name__} has no init_checkpoint '
                             'to load the initial weights from.')
        # One read of the file for both parts.
        checkpoint = read_state_dict(
            self.init_checkpoint, what='initial model')
        load_checked(
            self.backbone,
            self.init_checkpoint,
            'backbone.',
            what='initial model',
            checkpoint=checkpoint)
        if any(key.startswith('neck.') for key in checkpoint):
            load_checked(
                self.neck,
                self.init_checkpoint,
                'neck.',
                what='initial model',
                checkpoint=checkpoint)
        else:
            seed = self.init_decoder()
            print_log(
                f'The initial checkpoint {self.init_checkpoint} has no MAE '
                'decoder (neck.*): the decoder is initialised from seed '
                f'{seed} (the same at every restart of the student).',
                logger='current')

    def init_decoder(self, seed: Optional[int] = None) -> int:
        """Initialise the decoder with the config's initialisers, drawing
        from ``seed`` (default: ``torch.initial_seed()``, the seed the
        Runner set), without touching the training random stream; every
        process gets rank 0's decoder. Returns the seed."""
        if seed is None:
            seed = torch.initial_seed()
        init_cfgs = self.init_cfg or []
        if isinstance(init_cfgs, dict):
            init_cfgs = [init_cfgs]
        init_cfgs = [cfg for cfg in init_cfgs if cfg['type'] != 'Pretrained']
        devices = sorted({
            p.device.index
            for p in self.neck.parameters() if p.device.type == 'cuda'
        })
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            for module in self.neck.modules():
                if isinstance(module, BaseModule):
                    module.is_init = False
            if init_cfgs:
                initialize(self.neck, init_cfgs)
            self.neck.init_weights()
        # Ranks are seeded differently (diff_rank_seed).
        for tensor in self.neck.state_dict().values():
            broadcast(tensor)
        return seed

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """MAE reconstruction loss on a randomly masked pass."""
        losses = super().loss(inputs, data_samples, **kwargs)
        return dict(loss_mae=losses['loss'])
