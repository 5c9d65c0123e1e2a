# Copyright (c) mmsd contributors. All rights reserved.
from typing import Any, Dict, Optional, Sequence

import torch
from mmpretrain.registry import MODELS
from torch import nn

from ..utils import WeightAnchor, check_non_negative, split_new_parameters
from .base import BaseFinetuneRegularizer


@MODELS.register_module()
class L2SPRegularizer(BaseFinetuneRegularizer):
    """L2-SP: a quadratic pull towards the starting point.

    Implementation of `Explicit Inductive Bias for Transfer Learning with
    Convolutional Networks <https://arxiv.org/abs/1802.01483>`_:
    ``loss_l2sp = α/2 · Σ‖w − w₀‖²`` over the pre-trained parameters plus
    ``β/2 · Σ‖w‖²`` over the new ones (the head). w₀ is the weights the
    fine-tune started from (:class:`mmsd.models.utils.WeightAnchor`); it is
    stored in the model's state dict, so resuming keeps it. Frozen
    parameters are left out. L2-SP replaces weight decay: set the
    optimizer's ``weight_decay`` to 0.

    Args:
        alpha (float): α, weight of the pull towards w₀. Defaults to 0.1.
        beta (float): β, weight decay of the new parameters. Defaults to
            0.01.
        new_prefixes (Sequence[str]): Name prefixes of the new parameters.
            Defaults to ``('head.',)``.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 alpha: float = 0.1,
                 beta: float = 0.01,
                 new_prefixes: Sequence[str] = ('head.', ),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_non_negative('L2SPRegularizer', alpha=alpha, beta=beta)
        self.alpha = alpha
        self.beta = beta
        self.new_prefixes = tuple(new_prefixes)
        self.new_names: Sequence[str] = ()

    def setup(self, model: nn.Module) -> None:
        pretrained, new = split_new_parameters(model, self.new_prefixes)
        self.anchor = WeightAnchor(pretrained)
        self.new_names = list(new)

    def forward(
            self,
            model: nn.Module,
            inputs: Any = None,
            logits: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        self.anchor.capture_once(model)
        params = dict(model.named_parameters())
        pull = sum(((params[name] - w0).pow(2).sum()
                    for name, w0 in self.anchor.items()
                    if params[name].requires_grad), torch.tensor(0.))
        decay = sum((params[name].pow(2).sum()
                     for name in self.new_names if params[name].requires_grad),
                    torch.tensor(0.))
        return dict(loss_l2sp=self.alpha / 2 * pull + self.beta / 2 * decay)
