# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from conftest import build_tiny_mae, perturb

from mmsd.models import CheckpointMismatchError, SelfDistillMAE
from mmsd.utils import read_state_dict


def build_sd(init_checkpoint, teacher_checkpoint=None) -> SelfDistillMAE:
    model = build_tiny_mae(
        'SelfDistillMAE',
        init_checkpoint=init_checkpoint,
        teacher_checkpoint=teacher_checkpoint)
    model.init_weights()
    return model


def images(batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, 3, 32, 32)


def test_student_starts_from_initial_checkpoint(init_checkpoint):
    model = build_sd(init_checkpoint)
    expected = read_state_dict(init_checkpoint)
    state = model.state_dict()
    # MAEViT re-initialises these after a backbone-level load; the
    # algorithm-level load must keep the checkpoint's values.
    for key in ('backbone.cls_token', 'backbone.patch_embed.projection.weight',
                'backbone.layers.1.ffn.layers.1.weight',
                'neck.decoder_pred.weight', 'neck.mask_token'):
        torch.testing.assert_close(state[key], expected[key])
    assert torch.all(state['backbone.cls_token'] == 0.5)


def test_teacher_frozen_and_in_eval_mode(init_checkpoint):
    model = build_sd(init_checkpoint, teacher_checkpoint=init_checkpoint)
    model.train()
    assert model.backbone.training and model.neck.training
    assert not model.teacher.training
    assert not any(m.training for m in model.teacher.modules())
    assert not any(p.requires_grad for p in model.teacher.parameters())
    assert model.distill_enabled


def test_gradients_reach_student_never_teacher(init_checkpoint):
    model = build_sd(init_checkpoint, teacher_checkpoint=init_checkpoint)
    model.train()
    losses = model.loss(images(), [])
    assert set(losses) == {'loss_mae', 'loss_distill'}
    sum(losses.values()).backward()
    assert model.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0
    assert model.neck.decoder_pred.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())


def test_loss_distill_matches_formula_by_hand(init_checkpoint):
    model = build_sd(init_checkpoint)
    model.start_distill()
    perturb(model.teacher)  # a teacher unlike the student
    inputs = images(3)
    losses = model.loss(inputs, [])
    student_cls = model.backbone(inputs, mask=None)[-1][:, 0]
    teacher_cls = model.teacher(inputs, mask=None)[-1][:, 0]
    expected = ((student_cls - teacher_cls)**2).sum(dim=1).mean()
    assert expected > 0
    torch.testing.assert_close(losses['loss_distill'], expected)


def test_no_distillation_before_a_teacher_exists(init_checkpoint):
    model = build_sd(init_checkpoint)
    assert not model.distill_enabled
    assert set(model.loss(images(), [])) == {'loss_mae'}


def test_start_distill_copies_encoder_and_restarts_student(init_checkpoint):
    model = build_sd(init_checkpoint)
    with torch.no_grad():
        for param in model.backbone.parameters():
            param.add_(1.0)
        model.neck.decoder_pred.weight.add_(1.0)
    trained = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    model.start_distill()
    initial = read_state_dict(init_checkpoint, 'backbone.')
    for key, value in model.teacher.state_dict().items():
        torch.testing.assert_close(value, trained[key])
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, initial[key])
    torch.testing.assert_close(
        model.neck.decoder_pred.weight,
        read_state_dict(init_checkpoint, 'neck.')['decoder_pred.weight'])


def test_stage_is_part_of_the_state_dict(init_checkpoint):
    model = build_sd(init_checkpoint)
    model.start_distill()
    fresh = build_sd(init_checkpoint)
    assert not fresh.distill_enabled
    fresh.load_state_dict(model.state_dict())
    assert fresh.distill_enabled


def test_missing_teacher_file(init_checkpoint, tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='teacher file .*nope.pth'):
        build_sd(init_checkpoint, teacher_checkpoint=path)


def test_teacher_with_missing_and_unexpected_keys(init_checkpoint, tmp_path):
    state = read_state_dict(init_checkpoint)
    state.pop('backbone.ln1.weight')
    state['backbone.extra.weight'] = torch.zeros(1)
    path = str(tmp_path / 'bad.pth')
    torch.save(dict(state_dict=state), path)
    with pytest.raises(CheckpointMismatchError) as err:
        build_sd(init_checkpoint, teacher_checkpoint=path)
    message = str(err.value)
    assert 'teacher' in message and 'bad.pth' in message
    assert 'missing keys (1): ln1.weight' in message
    assert 'unexpected keys (1): extra.weight' in message


def test_teacher_with_wrong_shapes(init_checkpoint, tmp_path):
    state = read_state_dict(init_checkpoint)
    state['backbone.cls_token'] = torch.zeros(1, 1, 32)
    path = str(tmp_path / 'shape.pth')
    torch.save(dict(state_dict=state), path)
    with pytest.raises(
            CheckpointMismatchError,
            match=r'cls_token \(1, 1, 32\) in file vs '
            r'\(1, 1, 64\)'):
        build_sd(init_checkpoint, teacher_checkpoint=path)


def test_teacher_file_that_is_not_a_checkpoint(init_checkpoint, tmp_path):
    path = tmp_path / 'notes.pth'
    path.write_text('not a checkpoint')
    with pytest.raises(RuntimeError, match='Cannot read the teacher file'):
        build_sd(init_checkpoint, teacher_checkpoint=str(path))
    other = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict=dict(encoder=torch.zeros(1))), other)
    with pytest.raises(
            KeyError,
            match="no weights under the prefix "
            "'backbone.'.*'encoder.'"):
        build_sd(init_checkpoint, teacher_checkpoint=other)
