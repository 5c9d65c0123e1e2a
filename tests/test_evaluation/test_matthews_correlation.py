# Copyright (c) mmsd contributors. All rights reserved.
import math

import pytest
import torch

from mmsd.evaluation import MatthewsCorrelation


def mcc(pred, gt):
    metric = MatthewsCorrelation()
    metric.process(None, [
        dict(pred_label=torch.tensor([p]), gt_label=torch.tensor([g]))
        for p, g in zip(pred, gt)
    ])
    return metric.compute_metrics(metric.results)['mcc']


def test_binary_mcc_matches_its_formula():
    pred = [1, 1, 0, 0, 1, 0, 1, 1]
    gt = [1, 0, 0, 0, 1, 1, 1, 1]
    tp, tn, fp, fn = 4, 2, 1, 1
    expected = (tp * tn - fp * fn) / math.sqrt(
        (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert mcc(pred, gt) == pytest.approx(100 * expected)


def test_perfect_inverse_and_constant_predictions():
    assert mcc([0, 1, 2, 1], [0, 1, 2, 1]) == pytest.approx(100)
    assert mcc([1, 0, 1, 0], [0, 1, 0, 1]) == pytest.approx(-100)
    assert mcc([1, 1, 1, 1], [0, 1, 0, 1]) == 0
