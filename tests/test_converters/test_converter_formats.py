# Copyright (c) mmsd contributors. All rights reserved.
"""Each format, converted and loaded through a real mmsd config, computes
what its own library computes (final-norm class and patch tokens within
1e-5, fp32, with the source's LayerNorm eps carried over)."""
import pytest
import torch
from conftest import FPT_CONFIG, FT_CONFIG, TINY_FT, tiny_config
from mmpretrain.registry import MODELS
from test_converters.vit_sources import official_decoder_forward

from mmsd.converters import convert, save_converted

TOLERANCE = 1e-5


def build_from(converted, dst: str, kind: str = 'mae'):
    """The model of a real mmsd config, built with the options the converter
    prints, started from the converted file."""
    save_converted(converted, dst)
    options = converted.architecture.cfg_options(kind)
    if kind == 'mae':
        cfg = tiny_config(FPT_CONFIG, **options)
        cfg.model.init_checkpoint = dst
    else:
        cfg = tiny_config(FT_CONFIG, TINY_FT, **options)
        cfg.model.backbone_checkpoint = dst
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    return model


def tokens(model, images: torch.Tensor) -> torch.Tensor:
    """Final-norm class and patch tokens ``(B, 1 + L, C)`` of an unmasked
    pass."""
    backbone = model.backbone
    backbone.out_type = 'raw'
    with torch.no_grad():
        return backbone(images)[-1] if type(backbone).__name__ != 'MAEViT' \
            else backbone(images, mask=None)[-1]


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


def report(name: str, diff: float) -> None:
    print(f'\nparity {name}: max |delta| = {diff:.2e}')
    assert diff <= TOLERANCE, f'{name}: {diff}'


def hf_vitmae_tokens(model, images: torch.Tensor) -> torch.Tensor:
    """ViTMAE without masking, patches in their order (``noise=arange``)."""
    model.config.mask_ratio = 0.0
    try:
        with torch.no_grad():
            noise = torch.arange(16.).expand(images.shape[0], -1)
            return model.vit(images, noise=noise).last_hidden_state
    finally:
        model.config.mask_ratio = 0.75


@pytest.mark.parametrize('layout', ['save_pretrained', 'hub'])
def test_hf_vitmae_encoder_parity(hf_vitmae, hf_vitmae_hub_layout, layout,
                                  work):
    path, source = hf_vitmae
    converted = convert(path if layout ==
                        'save_pretrained' else hf_vitmae_hub_layout)
    assert converted.format == 'hf-vitmae'
    arch = converted.architecture
    assert arch.ln_eps == 1e-12 and arch.decoder.ln_eps == 1e-12
    assert arch.norm_pix is True and arch.mask_ratio == 0.75
    model = build_from(converted, str(work / 'mae.pth'))
    assert model.backbone.ln1.eps == 1e-12 and model.neck.ln1.eps == 1e-12
    images = torch.randn(2, 3, 32, 32)
    report(f'hf-vitmae ({layout}) encoder',
           max_diff(tokens(model, images), hf_vitmae_tokens(source, images)))


def test_both_hf_layouts_give_identical_tensors(hf_vitmae,
                                                hf_vitmae_hub_layout):
    new = convert(hf_vitmae[0]).state_dict
    old = convert(hf_vitmae_hub_layout).state_dict
    assert list(new) == list(old)
    assert all(torch.equal(new[key], old[key]) for key in new)
    assert any(key.startswith('neck.decoder_blocks.1.') for key in new)


def test_hf_vitmae_loss_parity(hf_vitmae, work):
    """Same masking noise on both sides: MMPretrain's MAE loss of the
    converted model equals ``ViTMAEForPreTraining(...).loss``."""
    path, source = hf_vitmae
    model = build_from(convert(path), str(work / 'mae.pth'))
    assert model.head.norm_pix  # the recipe's normalised-pixel target
    images = torch.randn(3, 3, 32, 32)
    torch.manual_seed(11)
    noise = torch.rand(3, 16)  # what MAEViT.random_masking draws next
    with torch.no_grad():
        expected = source(images, noise=noise).loss
        torch.manual_seed(11)
        loss = model.loss(images, [])['loss_mae']
    assert expected > 0
    report('hf-vitmae MAE loss', abs(loss.item() - expected.item()))


def test_hf_vit_parity(hf_vit, work):
    path, source = hf_vit
    converted = convert(path)
    assert converted.format == 'hf-vit'
    assert {d.split()[0]
            for d in converted.dropped
            } == {'pooler.dense.weight', 'pooler.dense.bias'}
    model = build_from(converted, str(work / 'vit.pth'), 'classifier')
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = source(images).last_hidden_state
    report('hf-vit', max_diff(tokens(model, images), expected))


def test_hf_dinov2_parity(hf_dinov2, work):
    path, source = hf_dinov2
    converted = convert(path)
    arch = converted.architecture
    assert converted.format == 'hf-dinov2'
    assert arch.layer_scale and arch.patch_size == 14 and arch.ln_eps == 1e-6
    model = build_from(converted, str(work / 'dinov2.pth'), 'classifier')
    gamma = model.backbone.layers[1].ffn.gamma2.weight
    assert torch.equal(gamma, source.encoder.layer[1].layer_scale2.lambda1)
    images = torch.randn(2, 3, 56, 56)
    with torch.no_grad():
        expected = source(images).last_hidden_state
    report('hf-dinov2', max_diff(tokens(model, images), expected))


def test_dinov2_resized_as_mmpretrain_resizes(hf_dinov2, work):
    """To another grid, the position embedding is resized exactly as
    MMPretrain's VisionTransformer resizes a checkpoint it loads."""
    from mmpretrain.models import VisionTransformer
    path, _ = hf_dinov2
    native = convert(path)
    resized = convert(path, img_size=28)
    assert resized.architecture.img_size == 28
    assert resized.state_dict['backbone.pos_embed'].shape == (1, 5, 32)
    kwargs = native.architecture.replace(img_size=28).backbone_kwargs()
    vit = VisionTransformer(**kwargs)
    vit.load_state_dict({
        k[len('backbone.'):]: v
        for k, v in native.state_dict.items()
    })  # MMPretrain's own resizing hook
    assert torch.equal(vit.pos_embed, resized.state_dict['backbone.pos_embed'])
    model = build_from(resized, str(work / 'dinov2_28.pth'), 'classifier')
    assert model.backbone.patch_resolution == (2, 2)


@pytest.mark.parametrize('kind', ['pth', 'safetensors'])
def test_timm_parity(timm_files, kind, work):
    pth, safe, source = timm_files
    converted = convert(pth if kind == 'pth' else safe, num_heads=2)
    arch = converted.architecture
    assert converted.format == 'timm-vit'
    assert arch.layer_scale and arch.assumed == ('ln_eps', )
    model = build_from(converted, str(work / 'timm.pth'), 'classifier')
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = source.forward_features(images)
    report(f'timm-vit ({kind})', max_diff(tokens(model, images), expected))


def test_mae_official_parity(mae_official_files, work):
    full, pretrain, encoder, decoder = mae_official_files
    converted = convert(full, num_heads=2, decoder_num_heads=2)
    assert converted.format == 'mae-official'
    assert converted.architecture.decoder.num_layers == 2
    model = build_from(converted, str(work / 'mae.pth'))
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = encoder.forward_features(images)
    report('mae-official encoder', max_diff(tokens(model, images), expected))
    # The decoder, on the same masked latent.
    torch.manual_seed(0)
    with torch.no_grad():
        latent, _, ids_restore = model.backbone(images)
        expected = official_decoder_forward(decoder, latent, ids_restore)
        predicted = model.neck(latent, ids_restore)
    report('mae-official decoder', max_diff(predicted, expected))
    # mae_pretrain_* files: the encoder alone.
    encoder_only = convert(pretrain, num_heads=2)
    assert encoder_only.format == 'mae-official'
    assert encoder_only.architecture.decoder is None
    assert not any(k.startswith('neck.') for k in encoder_only.state_dict)
