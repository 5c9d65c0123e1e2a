# Copyright (c) mmsd contributors. All rights reserved.
import math

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from torch import nn

from mmsd.engine import RecAdam, anneal_lambda


def test_anneal_lambda_schedule():
    for step in (1, 100, 240, 250, 260, 400, 5000):
        expected = 1 / (1 + math.exp(-0.1 * (step - 250)))
        assert anneal_lambda(step, 'sigmoid', 0.1, 250) == pytest.approx(
            expected, rel=1e-12)
    assert anneal_lambda(250, 'sigmoid', 0.5, 250, weight=0.8) == 0.4
    assert anneal_lambda(-10**6, 'sigmoid', 1.0, 0) == 0.0  # no overflow
    assert anneal_lambda(50, 'linear', t0=200) == 0.25
    assert anneal_lambda(500, 'linear', t0=200) == 1.0
    assert anneal_lambda(3, 'constant', weight=0.7) == 0.7
    with pytest.raises(ValueError, match="anneal_fun='cosine' is not one"):
        RecAdam([nn.Parameter(torch.zeros(1))], anneal_fun='cosine')


def gradients(steps, shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator) for _ in range(steps)]


def run_steps(optimizer, param, grads):
    for grad in grads:
        param.grad = grad.clone()
        optimizer.step()


def test_without_annealing_it_is_adamw_exactly():
    start = torch.randn(4, 3)
    ours = nn.Parameter(start.clone())
    reference = nn.Parameter(start.clone())
    kwargs = dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1)
    grads = gradients(6, (4, 3))
    run_steps(RecAdam([ours], anneal_w=0.0, **kwargs), ours, grads)
    run_steps(torch.optim.AdamW([reference], **kwargs), reference, grads)
    torch.testing.assert_close(ours.data, reference.data, rtol=0, atol=1e-7)


def test_step_matches_formula_and_pulls_to_the_first_weights():
    lr, wd, gamma, k, t0 = 1e-2, 0.01, 3.0, 0.7, 2
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    start = torch.randn(5)
    param = nn.Parameter(start.clone())
    optimizer = RecAdam([param],
                        lr=lr,
                        weight_decay=wd,
                        anneal_k=k,
                        anneal_t0=t0,
                        pretrain_cof=gamma)
    expected = start.clone()
    m = torch.zeros(5)
    v = torch.zeros(5)
    for t, grad in enumerate(gradients(4, (5, )), start=1):
        param.grad = grad.clone()
        optimizer.step()
        lam = 1 / (1 + math.exp(-k * (t - t0)))
        expected = expected * (1 - lr * wd)
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        adam = (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps)
        expected = expected - lam * lr * adam
        expected = expected - lr * (1 - lam) * gamma * (expected - start)
        torch.testing.assert_close(param.data, expected)
    # w0 is the value at the first step, not the current one.
    assert torch.equal(optimizer.state[param]['anchor'], start)
    assert not torch.allclose(param.data, start)


def test_anchor_survives_the_state_dict_like_a_resume():
    start = torch.randn(3, 2)
    grads = gradients(6, (3, 2))
    kwargs = dict(lr=0.05, anneal_k=1.0, anneal_t0=3, pretrain_cof=2.0)
    straight = nn.Parameter(start.clone())
    run_steps(RecAdam([straight], **kwargs), straight, grads)

    first = nn.Parameter(start.clone())
    optimizer = RecAdam([first], **kwargs)
    run_steps(optimizer, first, grads[:3])
    resumed = nn.Parameter(first.data.clone())
    other = RecAdam([resumed], **kwargs)
    other.load_state_dict(optimizer.state_dict())
    run_steps(other, resumed, grads[3:])
    assert torch.equal(other.state[resumed]['anchor'], start)
    assert other.state[resumed]['step'] == 6
    torch.testing.assert_close(resumed.data, straight.data)


def test_new_parameters_are_marked_with_paramwise_custom_keys():
    model = nn.Sequential()
    model.add_module('backbone', nn.Linear(3, 3))
    model.add_module('head', nn.Linear(3, 2))
    cfg = dict(
        optimizer=dict(type='RecAdam', lr=1e-3, weight_decay=0.01),
        paramwise_cfg=dict(
            custom_keys={
                'head.weight': dict(anneal_w=0.0),
                'head.bias': dict(anneal_w=0.0, decay_mult=0.0)
            }))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        wrapper = build_optim_wrapper(model, cfg)
    assert isinstance(wrapper.optimizer, RecAdam)
    groups = {id(g['params'][0]): g for g in wrapper.optimizer.param_groups}
    assert groups[id(model.backbone.weight)]['anneal_w'] == 1.0
    assert groups[id(model.head.weight)]['anneal_w'] == 0.0
    assert groups[id(model.head.bias)]['weight_decay'] == 0.0
    for param in model.parameters():
        param.grad = torch.ones_like(param)
    wrapper.step()
    assert 'anchor' in wrapper.optimizer.state[model.backbone.weight]
    assert 'anchor' not in wrapper.optimizer.state[model.head.weight]
