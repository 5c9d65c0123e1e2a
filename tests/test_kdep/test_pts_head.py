# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from mmpretrain.registry import MODELS

from mmsd.kdep import PTSFeatureDistillHead


def test_pts_matches_the_formula_with_signs():
    head = MODELS.build(dict(type='PTSFeatureDistillHead'))
    assert (head.temperature, head.power) == (0.1, 3.0)
    feature = torch.tensor([-0.8, -0.1, 0.0, 0.1, 2.7, -1e-4])
    expected = torch.tensor([-2.0, -1.0, 0.0, 1.0, 3.0, -0.1])
    torch.testing.assert_close(head.pts(feature), expected)
    other = PTSFeatureDistillHead(temperature=0.5, power=2.0)
    torch.testing.assert_close(
        other.pts(torch.tensor([-2.0, 0.125, 8.0])),
        torch.tensor([-2.0, 0.5, 4.0]))


def test_pts_is_odd_and_order_preserving():
    head = PTSFeatureDistillHead()
    feature = torch.linspace(-5, 5, 101)
    scaled = head.pts(feature)
    torch.testing.assert_close(head.pts(-feature), -scaled)
    assert torch.all(scaled[1:] > scaled[:-1])


def test_loss_is_weighted_mse_to_the_scaled_target():
    head = PTSFeatureDistillHead(loss_weight=3.0)
    student = torch.randn(4, 8, requires_grad=True)
    target = torch.randn(4, 8, requires_grad=True)
    loss = head.loss(student, target)
    scaled = torch.sign(target) * (target.abs() / 0.1)**(1 / 3)
    expected = 3.0 * ((student - scaled)**2).mean()
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert student.grad.abs().sum() > 0
    assert target.grad is None  # the target is never differentiated


def test_apply_to_student():
    head = PTSFeatureDistillHead(apply_to_student=True, loss_weight=2.0)
    student, target = torch.randn(3, 5), torch.randn(3, 5)
    expected = 2.0 * ((head.pts(student) - head.pts(target))**2).mean()
    torch.testing.assert_close(head.loss(student, target), expected)


def test_bad_arguments():
    with pytest.raises(ValueError, match='must be positive'):
        PTSFeatureDistillHead(temperature=0.0)
    with pytest.raises(ValueError, match=r'\(2, 4\) and target \(2, 5\)'):
        PTSFeatureDistillHead().loss(torch.zeros(2, 4), torch.zeros(2, 5))
