# Copyright (c) mmsd contributors. All rights reserved.
"""The self-distillation protocol on a toy algorithm, and its state in the
two real ones."""
import pytest
import torch
from conftest import build_tiny_mae
from mmengine.model import BaseModel
from torch import nn

from mmsd.models import SelfDistillMixin, TeacherFeatureCache


class ToySelfDistill(SelfDistillMixin, BaseModel):
    """A linear 'encoder' restarting from weights kept in memory."""

    def __init__(self, initial=None, teacher_checkpoint=None):
        super().__init__()
        self.encoder = nn.Linear(3, 2)
        self.initial = initial
        self.restarts = 0
        self.init_self_distill(nn.Linear(3, 2), teacher_checkpoint, dict())

    @property
    def student_encoder(self):
        return self.encoder

    @property
    def initial_weights(self):
        return None if self.initial is None else 'memory'

    def load_initial_weights(self):
        self.restarts += 1
        self.encoder.load_state_dict(self.initial)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.encoder(inputs)


def trained(model: ToySelfDistill) -> dict:
    with torch.no_grad():
        model.encoder.weight.add_(1.0)
    return {k: v.clone() for k, v in model.encoder.state_dict().items()}


def test_start_distill_teacher_from_student_then_restart_and_next_round():
    initial = nn.Linear(3, 2).state_dict()
    model = ToySelfDistill(initial)
    assert model.distill_round == 0 and not model.distill_enabled
    assert not any(p.requires_grad for p in model.teacher.parameters())
    cache = TeacherFeatureCache()
    cache.features(model.teacher, model.teacher, torch.randn(2, 3))
    model.teacher_cache = cache
    for round_ in (1, 2):
        student = trained(model)
        model.start_distill()
        assert model.distill_round == round_ and model.distill_enabled
        assert model.restarts == round_
        assert len(cache) == 0  # the cache heard of the new teacher
        for key, value in model.teacher.state_dict().items():
            assert torch.equal(value, student[key])  # the trained student
        for key, value in model.encoder.state_dict().items():
            assert torch.equal(value, initial[key])  # restarted
        assert model.state_dict()['_extra_state'].item() == round_


def test_round_is_restored_from_new_and_old_checkpoints():
    model = ToySelfDistill(nn.Linear(3, 2).state_dict())
    model.start_distill()
    model.start_distill()
    state = model.state_dict()
    fresh = ToySelfDistill()
    fresh.load_state_dict(state)
    assert fresh.distill_round == 2
    # Checkpoints written before the round counter hold distill_enabled.
    for flag, round_ in ((True, 1), (False, 0)):
        state['_extra_state'] = torch.tensor(flag)
        fresh.load_state_dict(state)
        assert fresh.distill_round == round_
        assert fresh.distill_enabled is flag


def test_distill_enabled_switches_round_one_on_and_off():
    model = ToySelfDistill()
    model.distill_enabled = True
    assert model.distill_round == 1
    model.distill_round = 3
    model.distill_enabled = True  # already on: the round stays
    assert model.distill_round == 3
    model.distill_enabled = False
    assert model.distill_round == 0


def test_teacher_checkpoint_starts_round_one(init_checkpoint):
    model = build_tiny_mae(
        'SelfDistillMAE',
        init_checkpoint=init_checkpoint,
        teacher_checkpoint=init_checkpoint)
    assert model.distill_round == 0
    model.init_weights()
    assert model.distill_round == 1
    assert model.student_encoder is model.backbone
    assert model.initial_weights == init_checkpoint


def test_a_student_without_initial_weights_is_named():
    with pytest.raises(
            ValueError,
            match='ToySelfDistill: set '
            'model.init_checkpoint; the student restarts'):
        ToySelfDistill().check_restartable()
    ToySelfDistill(nn.Linear(3, 2).state_dict()).check_restartable()
