# Copyright (c) mmsd contributors. All rights reserved.
"""Exports to Hugging Face and timm load in those libraries with nothing
missing and compute the same features; HF -> mmsd -> HF is bit-identical."""
import json
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from conftest import SD_CONFIG, build_tiny_mae, tiny_config
from mmpretrain.registry import MODELS
from safetensors.torch import load_file
from test_converters.vit_sources import perturb

from mmsd.converters import (ConversionError, convert, export_encoder,
                             vit_architecture)
from mmsd.engine import ExportBackboneHook

TOLERANCE = 1e-5


@pytest.fixture(scope='module')
def mmsd_mae():
    """A tiny mmsd MAE (64-d, 2 layers, decoder 32-d) with random weights."""
    torch.manual_seed(0)
    model = build_tiny_mae()
    model.init_weights()
    return perturb(model, 5)


def mmsd_tensors(model, decoder=True):
    return {
        k: v
        for k, v in model.state_dict().items()
        if k.startswith('backbone.') or (decoder and k.startswith('neck.'))
    }


def mmsd_tokens(model, images):
    with torch.no_grad():
        return model.backbone(images, mask=None)[-1]


def loading_info_is_clean(info: dict) -> None:
    problems = {k: v for k, v in info.items() if v and k != 'error_msgs'}
    assert not problems and not info.get('error_msgs'), info


def test_mmsd_to_hf_automodel(mmsd_mae, tmp_path):
    from transformers import AutoModel, ViTModel
    arch = vit_architecture(mmsd_mae.backbone, mmsd_mae.neck, mmsd_mae.head)
    dst = str(tmp_path / 'hf')
    how = export_encoder(mmsd_tensors(mmsd_mae), arch, dst, 'hf')
    assert 'pooler.dense.weight' in how  # said, not hidden
    model, info = AutoModel.from_pretrained(dst, output_loading_info=True)
    loading_info_is_clean(info)
    assert isinstance(model, ViTModel)
    assert model.config.layer_norm_eps == 1e-6  # mmsd's eps, carried over
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        hf = model(images).last_hidden_state
    diff = (hf - mmsd_tokens(mmsd_mae, images)).abs().max().item()
    print(f'\nround trip mmsd -> hf (AutoModel): max |delta| = {diff:.2e}')
    assert diff <= TOLERANCE


def test_mmsd_to_hf_with_decoder_same_mae_loss(mmsd_mae, tmp_path):
    from transformers import AutoModelForPreTraining
    arch = vit_architecture(mmsd_mae.backbone, mmsd_mae.neck, mmsd_mae.head)
    dst = str(tmp_path / 'hf_mae')
    export_encoder(mmsd_tensors(mmsd_mae), arch, dst, 'hf', with_decoder=True)
    model, info = AutoModelForPreTraining.from_pretrained(
        dst, output_loading_info=True)
    loading_info_is_clean(info)
    assert type(model).__name__ == 'ViTMAEForPreTraining'
    assert model.config.norm_pix_loss is True
    images = torch.randn(2, 3, 32, 32)
    torch.manual_seed(4)
    noise = torch.rand(2, 16)
    with torch.no_grad():
        expected = model(images, noise=noise).loss
        torch.manual_seed(4)
        loss = mmsd_mae.loss(images, [])['loss_mae']
    assert abs(loss.item() - expected.item()) <= TOLERANCE


@pytest.mark.parametrize('target', ['dir', 'pth'])
def test_mmsd_to_timm(mmsd_mae, tmp_path, target):
    import timm
    arch = vit_architecture(mmsd_mae.backbone)
    dst = str(tmp_path / ('timm' if target == 'dir' else 'timm.pth'))
    how = export_encoder(mmsd_tensors(mmsd_mae, False), arch, dst, 'timm')
    if target == 'dir':
        model = timm.create_model(f'local-dir:{dst}', pretrained=True)
    else:
        assert "timm.create_model('vit_base_patch16_224'" in how
        model = timm.create_model(
            'vit_base_patch16_224',
            pretrained=False,
            img_size=32,
            patch_size=8,
            embed_dim=64,
            depth=2,
            num_heads=4,
            mlp_ratio=2.0,
            num_classes=0)
        model.load_state_dict(torch.load(dst, weights_only=True))
    model.eval()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        features = model.forward_features(images)
    diff = (features - mmsd_tokens(mmsd_mae, images)).abs().max().item()
    print(f'\nround trip mmsd -> timm ({target}): max |delta| = {diff:.2e}')
    assert diff <= TOLERANCE


def test_timm_export_refuses_another_layernorm_eps(mmsd_mae, tmp_path):
    arch = vit_architecture(mmsd_mae.backbone).replace(ln_eps=1e-12)
    with pytest.raises(ConversionError, match='timm ViTs use LayerNorm eps'):
        export_encoder(
            mmsd_tensors(mmsd_mae, False), arch, str(tmp_path / 't'), 'timm')


def test_hf_to_mmsd_to_hf_is_bit_identical(hf_vitmae, tmp_path):
    src, _ = hf_vitmae
    converted = convert(src)
    dst = str(tmp_path / 'back')
    export_encoder(
        converted.state_dict,
        converted.architecture,
        dst,
        'hf',
        with_decoder=True)
    before = load_file(osp.join(src, 'model.safetensors'))
    after = load_file(osp.join(dst, 'model.safetensors'))
    assert sorted(before) == sorted(after)
    for key, value in before.items():
        assert after[key].dtype == value.dtype
        assert torch.equal(after[key], value), key
    with open(osp.join(src, 'config.json')) as f:
        config_before = json.load(f)
    with open(osp.join(dst, 'config.json')) as f:
        config_after = json.load(f)
    assert config_before == config_after


def test_dinov2_round_trip(hf_dinov2, tmp_path):
    from transformers import AutoModel
    src, source = hf_dinov2
    converted = convert(src)
    dst = str(tmp_path / 'dinov2')
    export_encoder(converted.state_dict, converted.architecture, dst, 'hf')
    model, info = AutoModel.from_pretrained(dst, output_loading_info=True)
    loading_info_is_clean(info)
    assert type(model).__name__ == 'Dinov2Model'
    before = load_file(osp.join(src, 'model.safetensors'))
    after = load_file(osp.join(dst, 'model.safetensors'))
    assert sorted(before) == sorted(after)
    for key in before:
        if key != 'embeddings.mask_token':  # not converted: no encoder part
            assert torch.equal(after[key], before[key]), key


def test_export_hook_writes_every_format(tmp_path):
    cfg = tiny_config(SD_CONFIG)
    cfg.model.init_checkpoint = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    hook = ExportBackboneHook(
        sources=dict(sd_backbone='backbone.', fpt_backbone='teacher.'),
        formats=('mmpretrain', 'hf', 'timm'),
        hf_with_decoder=True)
    runner = SimpleNamespace(model=model, work_dir=str(tmp_path), iter=7)
    hook.before_train(runner)
    hook.after_train(runner)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        'fpt_backbone.pth', 'fpt_backbone_hf', 'fpt_backbone_timm',
        'sd_backbone.pth', 'sd_backbone_hf', 'sd_backbone_timm'
    ]
    meta = torch.load(tmp_path / 'sd_backbone.pth', weights_only=True)['meta']
    assert meta['iter'] == 7 and meta['architecture']['num_heads'] == 4
    with open(tmp_path / 'sd_backbone_hf' / 'config.json') as f:
        assert json.load(f)['architectures'] == ['ViTMAEForPreTraining']
    with open(tmp_path / 'fpt_backbone_hf' / 'config.json') as f:
        assert json.load(f)['architectures'] == ['ViTModel']
    teacher = load_file(
        str(tmp_path / 'fpt_backbone_timm' / 'model.safetensors'))
    assert torch.equal(teacher['blocks.1.attn.qkv.weight'],
                       model.teacher.layers[1].attn.qkv.weight)


def test_export_hook_refuses_a_resnet_before_training():
    model = torch.nn.Module()
    model.backbone = torch.nn.Linear(2, 2)
    hook = ExportBackboneHook(formats=('hf', ))
    with pytest.raises(ValueError, match="'backbone'.*Linear.*only ViT"):
        hook.before_train(SimpleNamespace(model=model))
    with pytest.raises(ValueError, match='unknown formats'):
        ExportBackboneHook(formats=('onnx', ))
