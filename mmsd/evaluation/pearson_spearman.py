# Copyright (c) mmsd contributors. All rights reserved.
from typing import List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their average rank (as Spearman needs)."""
    unique, inverse, counts = np.unique(
        values, return_inverse=True, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return (starts + (counts - 1) / 2)[inverse]


@METRICS.register_module()
class PearsonSpearman(BaseMetric):
    """Pearson and Spearman correlations (×100) between predicted and true
    scores, GLUE's STS-B metrics.

    Args:
        collect_device (str): Defaults to 'cpu'.
        prefix (str, optional): Defaults to None: ``'correlation'``.
    """
    default_prefix = 'correlation'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append(
                (float(sample['pred_score'][0]), float(sample['gt_score'][0])))

    def compute_metrics(self, results: List[tuple]) -> dict:
        pred, gt = np.array(results, dtype=np.float64).T

        def pearson(a, b):
            a, b = a - a.mean(), b - b.mean()
            norm = np.sqrt((a * a).sum() * (b * b).sum())
            return float((a * b).sum() / norm) if norm > 0 else 0.0

        return dict(
            pearson=100 * pearson(pred, gt),
            spearman=100 * pearson(average_ranks(pred), average_ranks(gt)))
