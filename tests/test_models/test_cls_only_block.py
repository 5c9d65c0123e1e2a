# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from conftest import build_tiny_mae, perturb
from mmpretrain.models.backbones.vision_transformer import \
    TransformerEncoderLayer

from mmsd.models import ClsOnlyLayer, RecomputedLayer, cls_only_last_layer


@pytest.mark.parametrize('layer_scale, qkv_bias', [(0., True), (0.1, False)])
def test_cls_only_layer_equals_full_layer_cls_row(layer_scale, qkv_bias):
    torch.manual_seed(0)
    layer = TransformerEncoderLayer(
        embed_dims=32,
        num_heads=4,
        feedforward_channels=64,
        qkv_bias=qkv_bias,
        layer_scale_init_value=layer_scale).eval()
    x = torch.randn(3, 17, 32)
    expected = layer(x)[:, :1]
    actual = ClsOnlyLayer(layer)(x)
    assert actual.shape == (3, 1, 32)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)


def test_context_restores_the_layer_and_gives_cls_token():
    model = build_tiny_mae()
    model.init_weights()
    vit = model.backbone
    last = vit.layers[-1]
    inputs = torch.randn(2, 3, 32, 32)
    full = vit(inputs, mask=None)[-1]
    with cls_only_last_layer(vit):
        cls_token = vit(inputs, mask=None)[-1]
    assert vit.layers[-1] is last
    assert cls_token.shape == (2, 1, 64)
    torch.testing.assert_close(cls_token, full[:, :1], rtol=1e-5, atol=1e-5)


def test_self_distill_loss_and_gradients_unchanged(init_checkpoint):
    losses, grads = [], []
    for cls_only in (False, True):
        torch.manual_seed(0)  # same model, teacher noise, inputs and mask
        model = build_tiny_mae(
            'SelfDistillMAE',
            init_checkpoint=init_checkpoint,
            teacher_checkpoint=init_checkpoint,
            cls_only_last_block=cls_only)
        model.init_weights()
        perturb(model.teacher)  # a teacher unlike the student
        loss = model.loss(torch.randn(2, 3, 32, 32), [])['loss_distill']
        loss.backward()
        losses.append(loss.detach())
        grads.append(model.backbone.layers[-1].ffn.layers[1].weight.grad)
    assert model.cls_only_last_block
    assert losses[0] > 0 and grads[0].abs().sum() > 0
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-4, atol=1e-6)


def test_only_for_the_class_token_representation(init_checkpoint):
    model = build_tiny_mae(
        'SelfDistillMAE',
        distill_head=dict(type='SelfDistillHead', representation='mean_patch'))
    assert not model.cls_only_last_block
    with pytest.raises(ValueError, match="representation='cls_token'"):
        build_tiny_mae(
            'SelfDistillMAE',
            cls_only_last_block=True,
            distill_head=dict(
                type='SelfDistillHead', representation='mean_patch'))


def test_recomputed_student_layers_give_the_same_loss_and_gradients(
        init_checkpoint):
    losses, grads = [], []
    for recompute in (0, 2):
        torch.manual_seed(0)
        model = build_tiny_mae(
            'SelfDistillMAE',
            init_checkpoint=init_checkpoint,
            teacher_checkpoint=init_checkpoint,
            student_recompute_layers=recompute)
        model.init_weights()
        perturb(model.teacher)  # a teacher unlike the student
        loss = sum(model.loss(torch.randn(2, 3, 32, 32), []).values())
        loss.backward()
        losses.append(loss.detach())
        grads.append({
            name: p.grad.clone()
            for name, p in model.backbone.named_parameters()
            if p.grad is not None
        })
        assert not any(
            isinstance(layer, RecomputedLayer)
            for layer in model.backbone.layers)
    torch.testing.assert_close(losses[1], losses[0], rtol=0, atol=0)
    assert grads[1].keys() == grads[0].keys() and len(grads[0]) > 20
    for name, expected in grads[0].items():
        torch.testing.assert_close(
            grads[1][name], expected, rtol=1e-6, atol=1e-7, msg=name)
    with pytest.raises(
            ValueError, match=r'student_recompute_layers=3 is '
            r'not in \[0, 2\]'):
        build_tiny_mae('SelfDistillMAE', student_recompute_layers=3)
