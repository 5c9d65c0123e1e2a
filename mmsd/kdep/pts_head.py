# Copyright (c) mmsd contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from mmsd.models.utils import check_non_negative


@MODELS.register_module()
class PTSFeatureDistillHead(BaseModule):
    """Feature regression towards a power-temperature-scaled target.

    Implementation of the loss of `Knowledge Distillation as Efficient
    Pre-training: Faster Convergence, Higher Data-efficiency, and Better
    Transferability <https://arxiv.org/abs/2203.05180>`_. Power temperature
    scaling (PTS) maps a feature ``f`` element-wise to
    ``sign(f) * |f / T| ** (1 / n)``, which shrinks the spread of the
    teacher's (SVD-aligned) feature values. The loss is
    ``loss_weight * MSE(student, PTS(target))``, averaged over all elements.

    Args:
        temperature (float): ``T``. Defaults to 0.1.
        power (float): ``n``. Defaults to 3.
        loss_weight (float): ``w``; the official recipe uses 20 for a
            standard supervised ResNet-50 teacher and 3 for a stronger one.
            Defaults to 1.0.
        apply_to_student (bool): Also apply PTS to the student feature. The
            paper applies it to the target only; note that the gradient of
            PTS is infinite at 0. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 temperature: float = 0.1,
                 power: float = 3.0,
                 loss_weight: float = 1.0,
                 apply_to_student: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if temperature <= 0 or power <= 0:
            raise ValueError('PTSFeatureDistillHead: temperature and power '
                             f'must be positive, got T={temperature}, '
                             f'n={power}.')
        check_non_negative('PTSFeatureDistillHead', loss_weight=loss_weight)
        self.temperature = temperature
        self.power = power
        self.loss_weight = loss_weight
        self.apply_to_student = apply_to_student

    def pts(self, feature: torch.Tensor) -> torch.Tensor:
        """Power temperature scaling ``sign(f) * |f / T| ** (1 / n)``."""
        scaled = (feature / self.temperature).abs().pow(1.0 / self.power)
        return torch.sign(feature) * scaled

    def loss(self, student: torch.Tensor,
             target: torch.Tensor) -> torch.Tensor:
        """Weighted mean squared error; the target is never differentiated.

        Args:
            student (Tensor): Student features ``(B, k)`` (any shape).
            target (Tensor): Aligned teacher features, same shape, before
                PTS.
        """
        if student.shape != target.shape:
            raise ValueError('PTSFeatureDistillHead: student features '
                             f'{tuple(student.shape)} and target '
                             f'{tuple(target.shape)} differ in shape.')
        target = self.pts(target.detach().to(student.dtype))
        if self.apply_to_student:
            student = self.pts(student)
        return self.loss_weight * F.mse_loss(student, target)
