# Copyright (c) mmsd contributors. All rights reserved.
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils import check_non_negative


@MODELS.register_module()
class RegressionHead(BaseModule):
    """Mean squared error on one real output per sample, e.g. the
    similarity score of GLUE's STS-B.

    Takes the model's ``(B, 1)`` output (the last of ``feats``), compares it
    with each sample's ``gt_score`` and predicts it as ``pred_score``.

    Args:
        loss_weight (float): Defaults to 1.0.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_non_negative(type(self).__name__, loss_weight=loss_weight)
        self.loss_weight = loss_weight

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        return feats[-1].reshape(-1)

    def loss(self, feats: Sequence[torch.Tensor],
             data_samples: List[DataSample]) -> dict:
        pred = self(feats).float()
        target = torch.cat([s.gt_score for s in data_samples]).to(pred)
        return dict(loss=self.loss_weight * F.mse_loss(pred, target))

    def predict(
            self,
            feats: Sequence[torch.Tensor],
            data_samples: Optional[List[DataSample]] = None
    ) -> List[DataSample]:
        pred = self(feats).detach()
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(pred))]
        for sample, value in zip(data_samples, pred):
            sample.set_pred_score(value.reshape(1))
        return data_samples
