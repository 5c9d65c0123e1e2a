# Copyright (c) mmsd contributors. All rights reserved.
"""``tools/convert_checkpoint.py`` and ``tools/export_backbone.py`` as a user
runs them."""
import sys

import pytest
import torch
from conftest import SD_CONFIG, run, tiny_config
from mmpretrain.registry import MODELS

from mmsd.converters import (check_against_config, convert, format_options,
                             save_converted)


@pytest.mark.e2e
def test_convert_with_config(hf_vitmae, tmp_path):
    config = str(tmp_path / 'tiny_sd.py')
    tiny_config(SD_CONFIG).dump(config)
    dst = str(tmp_path / 'mae.pth')
    failed = run(
        sys.executable,
        'tools/convert_checkpoint.py',
        hf_vitmae[0],
        dst,
        '--config',
        config,
        check=False)
    assert failed.returncode == 1
    assert f"'{dst}' does not fit the model of {config}" in failed.stderr
    assert 'embed_dims: 32 vs 64' in failed.stderr
    assert 'ln_eps: 1e-12 vs 1e-06' in failed.stderr
    # What it printed is what makes the config fit.
    printed = failed.stdout.split('MAE / self-distillation configs:\n')[1]
    options = printed.splitlines()[0].split()
    assert options[0] == f'model.init_checkpoint={dst}'
    assert 'model.backbone.norm_cfg.eps=1e-12' in options
    out = run(sys.executable, 'tools/convert_checkpoint.py', hf_vitmae[0], dst,
              '--config', config, '--cfg-options', *options[1:]).stdout
    assert 'Found hf-vitmae' in out
    assert 'decoder: MAE, width 16, depth 2, heads 2' in out
    assert 'backbone: all 30 tensors loaded strictly into MAEViT' in out
    assert 'neck: all 32 tensors loaded strictly' in out
    assert out.splitlines()[-1] == (
        f'Train with: --cfg-options model.init_checkpoint={dst} ' +
        ' '.join(options[1:]))


def test_encoder_only_source_into_a_self_distillation_config(
        hf_dinov2, tmp_path):
    converted = convert(hf_dinov2[0])
    dst = str(tmp_path / 'dinov2.pth')
    save_converted(converted, dst)
    options = converted.architecture.cfg_options('mae')
    assert 'model.neck.decoder_embed_dim' not in options  # config's decoder
    cfg = tiny_config(SD_CONFIG, **options)
    lines = check_against_config(dst, cfg)
    assert lines[1] == ('backbone: all 34 tensors loaded strictly into '
                        'MAEViT')
    assert lines[2].startswith("neck: not in the file; an MAE run "
                               "initialises the decoder from the config's "
                               'seed')
    cfg.model.init_checkpoint = dst
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert model.backbone.patch_resolution == (4, 4)
    assert model.teacher.layers[0].attn.gamma1.weight.shape == (32, )
    assert set(model.loss(torch.randn(2, 3, 56, 56), [])) == {'loss_mae'}
    assert format_options(options).startswith('model.backbone.arch._delete_')


@pytest.mark.e2e
def test_export_training_checkpoint_to_hf(tmp_path):
    """An MMEngine training checkpoint (its config in ``meta``) exported
    without --config; AutoModel loads it with nothing missing."""
    from transformers import AutoModel
    cfg = tiny_config(SD_CONFIG)
    cfg.model.init_checkpoint = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    src = str(tmp_path / 'iter_2.pth')
    torch.save(
        dict(meta=dict(cfg=cfg.pretty_text), state_dict=model.state_dict()),
        src)
    dst = str(tmp_path / 'teacher_hf')
    out = run(sys.executable, 'tools/export_backbone.py', src, dst, '--source',
              'teacher', '--format', 'hf').stdout
    assert 'a ViTModel directory' in out
    hf, info = AutoModel.from_pretrained(dst, output_loading_info=True)
    assert not any(info[k] for k in ('missing_keys', 'unexpected_keys'))
    assert torch.equal(hf.layers[1].attention.o_proj.weight,
                       model.teacher.layers[1].attn.proj.weight)
