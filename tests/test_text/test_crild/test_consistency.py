# Copyright (c) mmsd contributors. All rights reserved.
import copy

import pytest
import torch
from conftest import build_ild, text_batch
from mmengine.logging import MessageHub
from mmengine.model import ExponentialMovingAverage

from mmsd.text.crild.consistency import ramped_weight, update_ema


def test_ema_targets_follow_the_student(tiny_bert_dir, crild_teacher_dir):
    model = build_ild(
        tiny_bert_dir,
        crild_teacher_dir,
        consistency=dict(weight=0.1, ema_momentum=0.5))
    model.train()
    assert not any(p.requires_grad for p in model.ema_student.parameters())
    with torch.no_grad():
        for param in model.student.parameters():
            param.add_(1.0)
    before = model.ema_student.embeddings.word_embeddings.weight.clone()
    model.loss(text_batch(model))
    after = model.ema_student.embeddings.word_embeddings.weight
    student = model.student.embeddings.word_embeddings.weight
    torch.testing.assert_close(after, 0.5 * before + 0.5 * student)


def test_mmengine_ema_is_not_a_drop_in_replacement():
    """Why update_ema is ours (MMEngine's ExponentialMovingAverage was to
    replace it only if it gave the same numbers): with momentum = 1 -
    ema_momentum, its first update copies the student instead of averaging,
    and its later updates (lerp) round differently."""
    torch.manual_seed(0)
    student = torch.nn.Linear(16, 16)
    ours = copy.deepcopy(student)
    theirs = ExponentialMovingAverage(
        copy.deepcopy(student), momentum=0.1, update_buffers=True)
    with torch.no_grad():
        student.weight.add_(1.0)
    update_ema(ours, student, 0.9)
    theirs.update_parameters(student)
    assert torch.equal(theirs.module.weight, student.weight)  # a copy
    torch.testing.assert_close(ours.weight, student.weight - 0.9)  # average
    # From the same state, with the same updates: equal up to rounding
    # only, not bit for bit.
    theirs.module.load_state_dict(ours.state_dict())
    for _ in range(50):
        with torch.no_grad():
            student.weight.add_(0.01 * torch.randn_like(student.weight))
        update_ema(ours, student, 0.9)
        theirs.update_parameters(student)
    torch.testing.assert_close(theirs.module.weight, ours.weight)
    assert not torch.equal(theirs.module.weight, ours.weight)


def test_the_weight_ramps_up_linearly():
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 4)
    assert ramped_weight(0.1, 10) == 0.1 * 5 / 10
    hub.update_info('iter', 20)
    assert ramped_weight(0.1, 10) == 0.1
    assert ramped_weight(0.3, 0) == 0.3


def test_all_ramps_over_the_whole_run():
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', 40)
    hub.update_info('iter', 9)
    assert ramped_weight(0.1, 'all') == pytest.approx(0.1 * 10 / 40)
    hub.update_info('iter', 39)
    assert ramped_weight(0.1, 'all') == pytest.approx(0.1)
    hub.update_info('max_iters', 0)
    with pytest.raises(RuntimeError, match='only a training runner'):
        ramped_weight(0.1, 'all')
    for bad in ('half', -1, 2.5, True):
        with pytest.raises(ValueError, match='ramp_iters'):
            ramped_weight(0.1, bad)
