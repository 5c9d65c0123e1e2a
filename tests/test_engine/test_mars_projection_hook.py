# Copyright (c) mmsd contributors. All rights reserved.
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from mmsd.engine import MARSProjectionHook
from mmsd.engine.hooks.mars_projection_hook import (max_abs_row_sum,
                                                    project_to_ball)


def test_max_abs_row_sum_and_projection():
    matrix = torch.tensor([[1.0, -2.0], [0.5, 0.5], [-3.0, 0.0]])
    assert max_abs_row_sum(matrix) == 3.0
    kernel = torch.ones(4, 2, 3, 3)  # one row per output channel
    assert max_abs_row_sum(kernel) == 18.0

    anchor = torch.randn(6, 5)
    delta = torch.randn(6, 5)
    weight = anchor + delta
    project_to_ball(weight, anchor, radius=1.0)
    torch.testing.assert_close(
        max_abs_row_sum(weight - anchor), torch.tensor(1.0))
    # Same direction, scaled by 1 / max(1, ||delta|| / radius).
    torch.testing.assert_close(weight - anchor, delta / max_abs_row_sum(delta))
    inside = anchor + 0.01 * delta
    copy = inside.clone()
    project_to_ball(inside, anchor, radius=1.0)
    assert torch.equal(inside, copy)


def tiny_model():
    torch.manual_seed(0)
    model = nn.Module()
    model.backbone = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.LayerNorm(4), nn.Linear(4, 8))
    model.head = nn.Linear(8, 2)
    return model


def fake_runner(model):
    return SimpleNamespace(model=model)


def test_every_layer_ends_within_its_radius():
    model = tiny_model()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    hook = MARSProjectionHook(radius={'backbone.0.*': 0.5, 'backbone.*': 0.2})
    runner = fake_runner(model)
    hook.before_train(runner)
    assert [(n, r) for n, _, r in hook.layers] == [('backbone.0.weight', 0.5),
                                                   ('backbone.2.weight', 0.2)]
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param))
    moved = {k: v.clone() for k, v in model.state_dict().items()}
    hook.after_train_iter(runner, 0)
    state = model.state_dict()
    for name, radius in (('backbone.0.weight', 0.5), ('backbone.2.weight',
                                                      0.2)):
        distance = max_abs_row_sum(state[name] - start[name])
        assert distance <= radius * (1 + 1e-5)
        assert distance >= radius * (1 - 1e-5)  # moved far: on the sphere
    # Biases, norms and the new head are free.
    for name in ('backbone.0.bias', 'backbone.1.weight', 'backbone.2.bias',
                 'head.weight', 'head.bias'):
        assert torch.equal(state[name], moved[name])


def test_anchor_is_the_start_and_survives_checkpoints():
    model = tiny_model()
    start = model.backbone[2].weight.detach().clone()
    hook = MARSProjectionHook(radius=0.1)
    runner = fake_runner(model)
    hook.before_train(runner)
    with torch.no_grad():
        model.backbone[2].weight.add_(1.0)
    hook.after_train_iter(runner, 0)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    torch.testing.assert_close(checkpoint['mars_anchor']['backbone.2.weight'],
                               start)
    # Resume: the weights moved further, w0 comes from the checkpoint.
    with torch.no_grad():
        model.backbone[2].weight.add_(1.0)
    resumed = MARSProjectionHook(radius=0.1)
    resumed.after_load_checkpoint(runner, checkpoint)
    resumed.before_train(runner)
    torch.testing.assert_close(resumed.anchor['backbone.2.weight'], start)
    resumed.after_train_iter(runner, 0)
    assert max_abs_row_sum(model.backbone[2].weight - start) <= 0.1 + 1e-6


def test_bad_radius_is_a_clear_error():
    with pytest.raises(ValueError, match="radius of '\\*' must be > 0"):
        MARSProjectionHook(radius=0.0)
    hook = MARSProjectionHook(radius={'backbone.9.*': 1.0})
    with pytest.raises(ValueError, match=r"\['backbone.9.\*'\] match no"):
        hook.before_train(fake_runner(tiny_model()))
