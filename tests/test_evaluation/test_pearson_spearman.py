# Copyright (c) mmsd contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmsd.evaluation import PearsonSpearman
from mmsd.evaluation.pearson_spearman import average_ranks


def correlations(pred, gt):
    metric = PearsonSpearman()
    metric.process(None, [
        dict(pred_score=torch.tensor([p]), gt_score=torch.tensor([g]))
        for p, g in zip(pred, gt)
    ])
    return metric.compute_metrics(metric.results)


def test_pearson_matches_numpy_and_spearman_uses_ranks():
    rng = np.random.default_rng(0)
    gt = rng.uniform(0, 5, 50)
    pred = gt**3 + rng.normal(0, 1, 50)  # monotone + noise
    result = correlations(pred, gt)
    assert result['pearson'] == pytest.approx(100 *
                                              np.corrcoef(pred, gt)[0, 1])
    exact = correlations(gt**3, gt)
    assert exact['spearman'] == pytest.approx(100)
    assert exact['pearson'] < 100


def test_ties_share_their_average_rank():
    assert average_ranks(np.array([3., 1., 3.,
                                   2.])).tolist() == [2.5, 0, 2.5, 1]
