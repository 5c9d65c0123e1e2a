# Copyright (c) mmsd contributors. All rights reserved.
from typing import List, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


@METRICS.register_module()
class MatthewsCorrelation(BaseMetric):
    """Matthews correlation coefficient (×100) of single-label predictions,
    GLUE's CoLA metric; for more than two classes, Gorodkin's R_K.

    Args:
        collect_device (str): Defaults to 'cpu'.
        prefix (str, optional): Defaults to None: ``'matthews'``.
    """
    default_prefix = 'matthews'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append(
                (int(sample['pred_label']), int(sample['gt_label'])))

    def compute_metrics(self, results: List[tuple]) -> dict:
        pred, gt = torch.tensor(results, dtype=torch.long).T
        classes = int(max(pred.max(), gt.max())) + 1
        confusion = torch.bincount(
            gt * classes + pred, minlength=classes**2).view(classes,
                                                            classes).double()
        total = confusion.sum()
        correct = confusion.trace()
        true_counts, pred_counts = confusion.sum(1), confusion.sum(0)
        covariance = correct * total - (pred_counts * true_counts).sum()
        denominator = ((total**2 - (pred_counts**2).sum()) *
                       (total**2 - (true_counts**2).sum())).sqrt()
        mcc = covariance / denominator if denominator > 0 else 0.0
        return dict(mcc=100 * float(mcc))
