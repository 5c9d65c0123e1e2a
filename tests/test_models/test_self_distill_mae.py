# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from conftest import build_tiny_mae, perturb

from mmsd.models import CheckpointMismatchError, SelfDistillMAE
from mmsd.models.algorithms import further_pretrain_mae
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


@pytest.fixture
def encoder_only_checkpoint(init_checkpoint, tmp_path) -> str:
    """The initial checkpoint without its decoder (as converted from a ViT
    that never had one)."""
    state = read_state_dict(init_checkpoint)
    path = str(tmp_path / 'encoder_only.pth')
    torch.save(
        dict(state_dict={
            k: v
            for k, v in state.items() if k.startswith('backbone.')
        }), path)
    return path


def neck_state(model) -> dict:
    return {k: v.clone() for k, v in model.neck.state_dict().items()}


def test_encoder_only_checkpoint_gets_decoder_from_seed(
        encoder_only_checkpoint, init_checkpoint, monkeypatch):
    logged = []
    monkeypatch.setattr(further_pretrain_mae, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    torch.manual_seed(7)
    first = build_tiny_mae(init_checkpoint=encoder_only_checkpoint)
    first.init_weights()
    torch.manual_seed(7)
    torch.randn(1000)  # other draws before init do not change the decoder
    # The self-distillation model (with a teacher) gets the same decoder.
    second = build_sd(encoder_only_checkpoint)
    torch.manual_seed(8)
    third = build_tiny_mae(init_checkpoint=encoder_only_checkpoint)
    third.init_weights()
    expected = read_state_dict(init_checkpoint)
    for model in (first, second, third):
        for key, value in model.backbone.state_dict().items():
            assert torch.equal(value, expected['backbone.' + key]), key
    for key, value in neck_state(first).items():
        assert torch.equal(value, second.neck.state_dict()[key]), key
    assert not torch.equal(first.neck.decoder_pred.weight,
                           third.neck.decoder_pred.weight)
    # Initialised as MMPretrain does: fixed sin-cos positions, LayerNorms
    # at one/zero, a random mask token.
    assert torch.equal(first.neck.ln1.weight, torch.ones(32))
    fresh = build_tiny_mae()
    fresh.init_weights()
    assert torch.equal(first.neck.decoder_pos_embed,
                       fresh.neck.decoder_pos_embed)
    assert first.neck.mask_token.abs().sum() > 0
    assert len(logged) == 3 and all(
        encoder_only_checkpoint in line and 'has no MAE decoder' in line
        for line in logged)
    assert 'initialised from seed 7 ' in logged[0]
    assert 'initialised from seed 8 ' in logged[2]


def test_stage_two_restarts_from_the_same_decoder(encoder_only_checkpoint):
    torch.manual_seed(3)
    model = build_sd(encoder_only_checkpoint)
    initial = neck_state(model)
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(2):  # stage 1 changes the decoder and the RNG stream
        optimizer.zero_grad()
        model.loss(images(), [])['loss_mae'].backward()
        optimizer.step()
    assert not torch.equal(model.neck.decoder_pred.weight,
                           initial['decoder_pred.weight'])
    rng = torch.get_rng_state()
    model.start_distill()
    assert torch.equal(torch.get_rng_state(), rng)  # stream untouched
    for key, value in model.neck.state_dict().items():
        assert torch.equal(value, initial[key]), key


def test_partial_decoder_is_refused(init_checkpoint, tmp_path):
    state = read_state_dict(init_checkpoint)
    state.pop('neck.decoder_pred.weight')
    path = str(tmp_path / 'partial.pth')
    torch.save(dict(state_dict=state), path)
    model = build_tiny_mae(init_checkpoint=path)
    with pytest.raises(
            CheckpointMismatchError,
            match=r'missing keys \(1\): decoder_pred.weight'):
        model.init_weights()
