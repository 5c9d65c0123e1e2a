# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from conftest import FT_CONFIG, TINY_FT, tiny_config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmsd.models import L2SPRegularizer, R3FRegularizer, symmetric_kl
from mmsd.utils import export_backbone, read_state_dict


def build_classifier(regularizers=None, **kwargs):
    cfg = tiny_config(FT_CONFIG, TINY_FT).model
    cfg.update(backbone_checkpoint=None, regularizers=regularizers)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(size=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(size, 3, 32, 32, generator=generator)
    samples = [DataSample().set_gt_label(i % 2) for i in range(size)]
    return inputs, samples


@torch.no_grad()
def perturb(model, scale=0.01, seed=1):
    generator = torch.Generator().manual_seed(seed)
    for param in model.parameters():
        param.add_(scale * torch.randn(param.shape, generator=generator))


def test_l2sp_matches_formula_with_w0_the_loaded_start(init_checkpoint,
                                                       tmp_path):
    path = str(tmp_path / 'backbone.pth')
    export_backbone(init_checkpoint, path)
    model = build_classifier(
        [dict(type='L2SPRegularizer', alpha=0.3, beta=0.05)],
        backbone_checkpoint=path)
    model.train()
    inputs, samples = batch()
    head = {k: v.clone() for k, v in model.head.state_dict().items()}
    losses = model.loss(inputs, samples)
    # At the start w = w0: only the head's decay.
    expected = 0.05 / 2 * sum(v.pow(2).sum() for v in head.values())
    torch.testing.assert_close(losses['loss_l2sp'], expected)
    # w0 is the loaded pre-trained backbone, not the random init.
    anchor = model.regularizers[0].anchor
    loaded = read_state_dict(init_checkpoint, 'backbone.')
    for key, value in loaded.items():
        torch.testing.assert_close(anchor[f'backbone.{key}'], value)
    assert not any(name.startswith('head.') for name in anchor.names)

    start = {k: v.detach().clone() for k, v in model.named_parameters()}
    perturb(model)
    model.zero_grad()
    losses = model.loss(inputs, samples)
    params = dict(model.named_parameters())
    pull = sum((params[k] - start[k]).pow(2).sum() for k in start
               if not k.startswith('head.'))
    decay = sum(params[k].pow(2).sum() for k in start if k.startswith('head.'))
    torch.testing.assert_close(losses['loss_l2sp'],
                               0.3 / 2 * pull + 0.05 / 2 * decay)
    losses['loss_l2sp'].backward()
    for key, param in params.items():
        expected = (0.05 * param if key.startswith('head.') else 0.3 *
                    (param - start[key]))
        torch.testing.assert_close(param.grad, expected.detach())


def test_l2sp_w0_is_kept_through_the_state_dict():
    model = build_classifier([dict(type='L2SPRegularizer')])
    model.train()
    inputs, samples = batch()
    model.loss(inputs, samples)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    perturb(model)
    # A resumed model: other weights, w0 and the flag from the checkpoint.
    resumed = build_classifier([dict(type='L2SPRegularizer')])
    resumed.load_state_dict(model.state_dict())
    resumed.train()
    resumed.loss(inputs, samples)
    for name, value in resumed.regularizers[0].anchor.items():
        torch.testing.assert_close(value, start[name])
        assert not torch.equal(value, dict(resumed.named_parameters())[name])


def test_l2sp_ignores_frozen_parameters_and_checks_prefixes():
    model = build_classifier([dict(type='L2SPRegularizer', beta=0.0)])
    model.train()
    inputs, samples = batch()
    model.loss(inputs, samples)
    perturb(model)
    model.backbone.requires_grad_(False)
    assert model.loss(inputs, samples)['loss_l2sp'] == 0
    with pytest.raises(ValueError, match=r"new_prefixes: 'heads\.' matches"):
        build_classifier(
            [dict(type='L2SPRegularizer', new_prefixes=['heads.'])])
    with pytest.raises(ValueError, match='alpha must be a finite number >= 0'):
        L2SPRegularizer(alpha=-1)


def test_symmetric_kl_matches_formula_and_is_symmetric():
    p_logits, q_logits = torch.randn(5, 7), torch.randn(5, 7)
    p, q = p_logits.softmax(-1), q_logits.softmax(-1)
    expected = ((p * (p / q).log()).sum() + (q * (q / p).log()).sum()) / 5
    torch.testing.assert_close(symmetric_kl(p_logits, q_logits), expected)
    torch.testing.assert_close(
        symmetric_kl(q_logits, p_logits), symmetric_kl(p_logits, q_logits))
    assert symmetric_kl(p_logits, p_logits) == 0


def spy_layer_input(model, store):
    return model.backbone.layers[0].register_forward_pre_hook(
        lambda module, args: store.append(args[0].detach().clone()))


@pytest.mark.parametrize('noise_type', ['uniform', 'normal'])
def test_r3f_noise_touches_only_the_patch_embeddings(noise_type):
    sigma = 0.05
    model = build_classifier(
        [dict(type='R3FRegularizer', noise_type=noise_type, sigma=sigma)])
    model.train()
    model.head.dropout.p = 0.0
    regularizer = model.regularizers[0]
    inputs, _ = batch(8)
    original = inputs.clone()
    tokens = []
    handle = spy_layer_input(model, tokens)
    clean = model.forward_logits(inputs)
    noised = regularizer.noised_logits(model, inputs)
    handle.remove()
    # The noise hook is gone and the images are untouched.
    assert not model.backbone.patch_embed._forward_hooks
    torch.testing.assert_close(inputs, original)
    torch.testing.assert_close(model.forward_logits(inputs), clean)
    assert not torch.allclose(noised, clean)
    # The class token (not an embedding output) and the position
    # embedding added after it are unchanged; the patch tokens moved by
    # the noise only.
    diff = tokens[1] - tokens[0]
    assert torch.equal(diff[:, 0], torch.zeros_like(diff[:, 0]))
    patch = diff[:, 1:]
    if noise_type == 'uniform':
        assert patch.abs().max() <= sigma * (1 + 1e-4)
        assert patch.abs().max() > 0.9 * sigma
    else:
        assert abs(patch.std().item() - sigma) < 0.1 * sigma
    assert abs(patch.mean().item()) < 0.1 * sigma


def test_r3f_loss_is_weighted_symmetric_kl_with_gradients():
    model = build_classifier(
        [dict(type='R3FRegularizer', sigma=0.1, loss_weight=2.0)])
    model.train()
    inputs, samples = batch()
    torch.manual_seed(0)
    losses = model.loss(inputs, samples)
    torch.manual_seed(0)
    clean = model.forward_logits(inputs)
    noised = model.regularizers[0].noised_logits(model, inputs)
    torch.testing.assert_close(losses['loss_r3f'],
                               2.0 * symmetric_kl(clean, noised))
    losses['loss_r3f'].backward()
    assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0
    # No noise in eval mode.
    model.eval()
    assert model.loss(inputs, samples)['loss_r3f'] == 0


def test_r3f_checks_its_config():
    with pytest.raises(ValueError, match="noise_type='gauss' is not one of"):
        R3FRegularizer(noise_type='gauss')
    with pytest.raises(
            ValueError,
            match="embedding='backbone.embed' is not a submodule of "
            'PretrainedImageClassifier'):
        build_classifier(
            [dict(type='R3FRegularizer', embedding='backbone.embed')])


def test_switched_off_regularizers_give_plain_finetuning_exactly():
    plain = build_classifier()
    assert len(plain.regularizers) == 0
    regularized = build_classifier([
        dict(type='L2SPRegularizer', alpha=0.0, beta=0.0),
        dict(type='R3FRegularizer', loss_weight=0.0)
    ])
    regularized.load_state_dict(plain.state_dict(), strict=False)
    plain.train()
    regularized.train()
    inputs, samples = batch()
    torch.manual_seed(0)
    plain_losses = plain.loss(inputs, samples)
    torch.manual_seed(0)
    losses = regularized.loss(inputs, samples)
    assert set(losses) == {'loss', 'loss_l2sp', 'loss_r3f'}
    assert torch.equal(losses['loss'], plain_losses['loss'])
    sum(plain_losses.values()).backward()
    sum(losses.values()).backward()
    for (name, param), other in zip(plain.named_parameters(),
                                    regularized.parameters()):
        assert torch.equal(param.grad, other.grad), name


def test_mixin_rejects_bad_regularizers():
    with pytest.raises(TypeError, match=r'regularizers\[0\] is a Linear'):
        build_classifier([torch.nn.Linear(2, 2)])
    model = build_classifier(
        [dict(type='L2SPRegularizer'),
         dict(type='L2SPRegularizer')])
    model.train()
    with pytest.raises(KeyError, match="Two regularizers return 'loss_l2sp'"):
        model.loss(*batch())
