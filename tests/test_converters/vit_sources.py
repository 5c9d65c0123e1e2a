# Copyright (c) mmsd contributors. All rights reserved.
"""Tiny source checkpoints written by the real libraries (transformers,
timm), with random weights: nothing is downloaded."""
import json
import os
import os.path as osp

import pytest
import torch


def perturb(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Random values everywhere, LayerNorms and layer scales included, so
    that a swapped or dropped tensor changes the output."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.1 * torch.randn(param.shape, generator=generator))
    return model.eval()


def vitmae_config(**kwargs):
    from transformers import ViTMAEConfig
    options = dict(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=32,
        patch_size=8,
        decoder_hidden_size=16,
        decoder_num_hidden_layers=2,
        decoder_num_attention_heads=2,
        decoder_intermediate_size=32,
        norm_pix_loss=True)
    options.update(kwargs)
    return ViTMAEConfig(**options)


@pytest.fixture(scope='session', name='hf_vitmae')
def hf_vitmae_fixture(tmp_path_factory):
    """(directory written by transformers 5's save_pretrained, model)."""
    from transformers import ViTMAEForPreTraining
    torch.manual_seed(0)
    model = perturb(ViTMAEForPreTraining(vitmae_config()))
    path = str(tmp_path_factory.mktemp('hf_vitmae'))
    model.save_pretrained(path)
    return path, model


@pytest.fixture(scope='session', name='hf_vitmae_hub_layout')
def hf_vitmae_hub_layout_fixture(hf_vitmae, tmp_path_factory):
    """The same weights under the names of the transformers 4 files on the
    hub (``decoder.decoder_layers.N``), as ``pytorch_model.bin``."""
    from safetensors.torch import load_file
    src, _ = hf_vitmae
    tensors = load_file(osp.join(src, 'model.safetensors'))
    new_name, hub_name = 'decoder.decoder_encoder.', 'decoder.decoder_'
    renamed = {
        key.replace(new_name + 'layer.', hub_name + 'layers.'): value
        for key, value in tensors.items()
    }
    assert any('decoder.decoder_layers.1.attention.attention.query' in k
               for k in renamed)
    assert any('vit.encoder.layer.1.attention.attention.query' in k
               for k in renamed)
    path = str(tmp_path_factory.mktemp('hf_vitmae_hub'))
    torch.save(renamed, osp.join(path, 'pytorch_model.bin'))
    with open(osp.join(src, 'config.json')) as f:
        config = json.load(f)
    config['transformers_version'] = '4.30.0'
    with open(osp.join(path, 'config.json'), 'w') as f:
        json.dump(config, f)
    return path


@pytest.fixture(scope='session', name='hf_vit')
def hf_vit_fixture(tmp_path_factory):
    from transformers import ViTConfig, ViTModel
    torch.manual_seed(1)
    model = perturb(
        ViTModel(
            ViTConfig(
                hidden_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=64,
                image_size=32,
                patch_size=8)), 1)
    path = str(tmp_path_factory.mktemp('hf_vit'))
    model.save_pretrained(path)
    return path, model


@pytest.fixture(scope='session', name='hf_dinov2')
def hf_dinov2_fixture(tmp_path_factory):
    """A DINOv2 at 56 px (4x4 patches of 14 px), with layer scale."""
    from transformers import Dinov2Config, Dinov2Model
    torch.manual_seed(2)
    model = perturb(
        Dinov2Model(
            Dinov2Config(
                hidden_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                mlp_ratio=2,
                image_size=56,
                patch_size=14)), 2)
    path = str(tmp_path_factory.mktemp('hf_dinov2'))
    model.save_pretrained(path)
    return path, model


def timm_vit(seed: int = 3, **kwargs):
    import timm
    torch.manual_seed(seed)
    options = dict(
        pretrained=False,
        num_classes=0,
        img_size=32,
        patch_size=8,
        embed_dim=32,
        depth=2,
        num_heads=2,
        mlp_ratio=2.0)
    options.update(kwargs)
    return perturb(timm.create_model('vit_base_patch16_224', **options), seed)


@pytest.fixture(scope='session', name='timm_files')
def timm_files_fixture(tmp_path_factory):
    """A timm ViT with layer scale, as .pth and .safetensors state dicts."""
    from safetensors.torch import save_file
    model = timm_vit(init_values=1e-5)
    root = tmp_path_factory.mktemp('timm')
    pth, safe = str(root / 'vit.pth'), str(root / 'vit.safetensors')
    torch.save(model.state_dict(), pth)
    save_file(model.state_dict(), safe)
    return pth, safe, model


def official_decoder(seed: int = 4):
    """The MAE decoder of facebookresearch/mae (``models_mae.py``), built
    from timm blocks as there, for an encoder of width 32, 4x4 patches of
    8 px: ``decoder_embed``, ``mask_token``, ``decoder_pos_embed``,
    ``decoder_blocks``, ``decoder_norm``, ``decoder_pred``."""
    from functools import partial

    from timm.models.vision_transformer import Block
    from torch import nn
    torch.manual_seed(seed)
    norm = partial(nn.LayerNorm, eps=1e-6)
    decoder = nn.Module()
    decoder.decoder_embed = nn.Linear(32, 16)
    decoder.mask_token = nn.Parameter(torch.zeros(1, 1, 16))
    decoder.decoder_pos_embed = nn.Parameter(torch.zeros(1, 17, 16))
    decoder.decoder_blocks = nn.ModuleList(
        [Block(16, 2, 2.0, qkv_bias=True, norm_layer=norm) for _ in range(2)])
    decoder.decoder_norm = norm(16)
    decoder.decoder_pred = nn.Linear(16, 8 * 8 * 3)
    return perturb(decoder, seed)


def official_decoder_forward(decoder, latent, ids_restore):
    """``MaskedAutoencoderViT.forward_decoder`` of facebookresearch/mae."""
    x = decoder.decoder_embed(latent)
    mask_tokens = decoder.mask_token.repeat(
        x.shape[0], ids_restore.shape[1] + 1 - x.shape[1], 1)
    x_ = torch.cat([x[:, 1:, :], mask_tokens], dim=1)
    x_ = torch.gather(
        x_, dim=1, index=ids_restore.unsqueeze(-1).repeat(1, 1, x.shape[2]))
    x = torch.cat([x[:, :1, :], x_], dim=1)
    x = x + decoder.decoder_pos_embed
    for block in decoder.decoder_blocks:
        x = block(x)
    x = decoder.decoder_norm(x)
    return decoder.decoder_pred(x)[:, 1:, :]


@pytest.fixture(scope='session', name='mae_official_files')
def mae_official_files_fixture(tmp_path_factory):
    """``mae_visualize_*``-style (encoder + decoder) and
    ``mae_pretrain_*``-style (encoder only) files under ``model``."""
    encoder = timm_vit(seed=5)
    decoder = official_decoder()
    root = tmp_path_factory.mktemp('mae_official')
    full, pretrain = str(root / 'mae_visualize.pth'), str(root /
                                                          'mae_pretrain.pth')
    torch.save(
        dict(model={
            **encoder.state_dict(),
            **decoder.state_dict()
        }), full)
    torch.save(dict(model=encoder.state_dict()), pretrain)
    return full, pretrain, encoder, decoder


@pytest.fixture(name='work')
def work_fixture(tmp_path):
    os.makedirs(tmp_path / 'out', exist_ok=True)
    return tmp_path / 'out'
