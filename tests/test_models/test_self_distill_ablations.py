# Copyright (c) mmsd contributors. All rights reserved.
"""The paper's ablations as arguments of SelfDistillMAE, on the tiny MAE:
where the student restarts, the MAE term's weight, the distilled
representation and λ."""
import pytest
import torch
from conftest import build_tiny_mae, perturb

from mmsd.models import SelfDistillMAE
from mmsd.utils import read_state_dict


def build_sd(init_checkpoint, **kwargs) -> SelfDistillMAE:
    model = build_tiny_mae(
        'SelfDistillMAE', init_checkpoint=init_checkpoint, **kwargs)
    model.init_weights()
    return model


def images(batch: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.randn(
        batch, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def trained(model: SelfDistillMAE) -> None:
    """Stand-in for stage 1: move the encoder and the decoder."""
    torch.manual_seed(1)
    perturb(model.backbone)
    perturb(model.neck)


def state(module: torch.nn.Module) -> dict:
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_student_restarted_from_the_teacher(init_checkpoint):
    model = build_sd(init_checkpoint, restart_from='teacher')
    trained(model)
    encoder, decoder = state(model.backbone), state(model.neck)
    model.start_distill()
    for module, expected in ((model.teacher, encoder),
                             (model.backbone, encoder), (model.neck, decoder)):
        for key, value in module.state_dict().items():
            assert torch.equal(value, expected[key]), key
    assert model.distill_round == 1
    # Student and teacher are the same network: nothing to distil yet.
    model.eval()
    assert model.loss(images(), [])['loss_distill'] == 0
    # A run without initial weights can restart from the teacher.
    build_tiny_mae(
        'SelfDistillMAE', restart_from='teacher').check_restartable()


def test_student_from_a_teacher_checkpoint_keeps_the_initial_decoder(
        init_checkpoint, tmp_path):
    teacher = build_sd(init_checkpoint)
    trained(teacher)
    path = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), path)
    model = build_sd(
        init_checkpoint, teacher_checkpoint=path, restart_from='teacher')
    expected = read_state_dict(path, 'backbone.')
    for module in (model.teacher, model.backbone):
        for key, value in module.state_dict().items():
            assert torch.equal(value, expected[key]), key
    initial = read_state_dict(init_checkpoint, 'neck.')
    for key, value in model.neck.state_dict().items():
        assert torch.equal(value, initial[key]), key


def test_restart_from_is_checked():
    with pytest.raises(
            ValueError,
            match="restart_from='student' is not "
            "one of \\('initial', 'teacher'\\)"):
        build_tiny_mae('SelfDistillMAE', restart_from='student')


def test_a_given_teacher_state_is_frozen_instead_of_the_student(
        init_checkpoint):
    model = build_sd(init_checkpoint)
    snapshot = state(model.backbone)
    trained(model)
    model.start_distill(teacher_state=snapshot)
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, snapshot[key]), key


def test_without_the_mae_term_the_decoder_gets_no_gradient(init_checkpoint):
    model = build_sd(init_checkpoint, mae_loss_weight=0)
    assert model.unused_in_distill() == ['neck']
    model.train()
    # Further pre-training still trains the MAE.
    assert set(model.loss(images(), [])) == {'loss_mae'}
    model.start_distill()
    perturb(model.teacher)
    losses = model.loss(images(), [])
    assert set(losses) == {'loss_distill'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.neck.parameters())
    assert model.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0


def test_mae_loss_weight_scales_loss_mae_while_distilling(init_checkpoint):
    losses = {}
    for weight in (1.0, 0.25):
        model = build_sd(init_checkpoint, mae_loss_weight=weight)
        torch.manual_seed(3)  # the same masks
        before = model.loss(images(), [])['loss_mae']
        model.start_distill()
        torch.manual_seed(3)
        losses[weight] = (before, model.loss(images(), [])['loss_mae'])
    assert torch.equal(losses[0.25][0], losses[1.0][0])  # stage 1: weight 1
    assert torch.equal(losses[0.25][1], 0.25 * losses[1.0][1])
    with pytest.raises(ValueError, match='mae_loss_weight must be a finite'):
        build_tiny_mae('SelfDistillMAE', mae_loss_weight=-1)


@pytest.mark.parametrize('weight', [0.1, 1.0, 10.0])
def test_lambda_scales_the_distillation_loss_and_its_gradient(
        init_checkpoint, weight):
    results = {}
    for w in (1.0, weight):
        model = build_sd(init_checkpoint, distill_head=dict(loss_weight=w))
        model.start_distill()
        torch.manual_seed(0)
        perturb(model.teacher)
        loss = model.loss(images(), [])['loss_distill']
        loss.backward()
        results[w] = (loss.detach(),
                      model.backbone.layers[1].ffn.layers[1].weight.grad)
    torch.testing.assert_close(results[weight][0], weight * results[1.0][0])
    torch.testing.assert_close(results[weight][1], weight * results[1.0][1])


def by_hand(representation: str, student: torch.Tensor,
            teacher: torch.Tensor) -> torch.Tensor:
    """The distillation loss of (B, L, C) final-norm tokens."""
    if representation == 'cls_token':
        student, teacher = student[:, 0], teacher[:, 0]
    elif representation == 'mean_patch':
        student, teacher = student[:, 1:].mean(1), teacher[:, 1:].mean(1)
    error = (student - teacher)**2
    return error.sum() / len(error)  # sum over features (and tokens)


@pytest.mark.parametrize('representation',
                         ['cls_token', 'mean_patch', 'all_tokens'])
def test_each_representation_distils_what_it_says(init_checkpoint,
                                                  representation):
    model = build_sd(
        init_checkpoint, distill_head=dict(representation=representation))
    # Only the class token lets the last block skip the patch tokens.
    assert model.cls_only_last_block == (representation == 'cls_token')
    model.start_distill()
    perturb(model.teacher)
    inputs = images()
    loss = model.loss(inputs, [])['loss_distill']
    with torch.no_grad():
        expected = by_hand(representation,
                           model.backbone(inputs, mask=None)[-1],
                           model.teacher(inputs, mask=None)[-1])
    assert expected > 0
    torch.testing.assert_close(loss.detach(), expected)
