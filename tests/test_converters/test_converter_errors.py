# Copyright (c) mmsd contributors. All rights reserved.
"""Bad input fails loudly, naming the file and the key or value at fault."""
import json
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
from conftest import SD_CONFIG, tiny_config
from safetensors.torch import load_file, save_file
from test_converters.vit_sources import timm_vit

from mmsd.converters import (ConversionError, check_against_config, convert,
                             save_converted)
from mmsd.converters.hf import DEFAULTS
from mmsd.models import CheckpointMismatchError


def copy_hf(src: str, dst: str, edit) -> str:
    """A copy of a Hugging Face directory with its tensors edited."""
    shutil.copytree(src, dst)
    path = osp.join(dst, 'model.safetensors')
    tensors = load_file(path)
    edit(tensors)
    save_file(tensors, path)
    return dst


def test_unknown_layout_lists_keys_and_formats(tmp_path):
    path = str(tmp_path / 'other.pth')
    torch.save({'encoder.conv1.weight': torch.zeros(1)}, path)
    with pytest.raises(ConversionError) as error:
        convert(path)
    message = str(error.value)
    assert repr(path) in message and 'encoder.conv1.weight' in message
    for fmt in ('hf-vitmae', 'hf-vit', 'hf-dinov2', 'mae-official',
                'timm-vit'):
        assert fmt in message


def test_unknown_key_in_a_known_layout(hf_vitmae, tmp_path):
    path = copy_hf(
        hf_vitmae[0], str(tmp_path / 'extra'), lambda t: t.update({
            'vit.encoder.layer.0.attention.attention.rope.weight':
            torch.zeros(1)
        }))
    with pytest.raises(ConversionError) as error:
        convert(path)
    assert f"'{path}' is not a hf-vitmae checkpoint" in str(error.value)
    assert 'vit.encoder.layer.0.attention.attention.rope.weight' in str(
        error.value)


def test_partial_layout_names_what_is_missing(hf_vitmae, tmp_path):
    path = copy_hf(
        hf_vitmae[0], str(tmp_path / 'partial'),
        lambda t: t.pop('vit.encoder.layer.1.layernorm_after.weight'))
    with pytest.raises(ConversionError) as error:
        convert(path)
    message = str(error.value)
    assert repr(path) in message
    assert 'missing (1): backbone.layers.1.ln2.weight' in message
    path = copy_hf(
        hf_vitmae[0], str(tmp_path / 'no_key'),
        lambda t: t.pop('decoder.decoder_encoder.layer.0.attention.attention.'
                        'key.bias'))
    with pytest.raises(
            ConversionError,
            match='partial checkpoint: neck.decoder_blocks.0.attn'
            '.qkv.bias lacks the k part'):
        convert(path)


def test_truncated_file(tmp_path):
    model = timm_vit()
    path = tmp_path / 'vit.pth'
    torch.save(model.state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 3])
    with pytest.raises(
            RuntimeError, match=f"Cannot read the source file '{path}'"):
        convert(str(path))


class RunsCode:

    def __reduce__(self):
        return (shutil.rmtree, ('/nonexistent-mmsd-test-dir', ))


def test_pickle_that_would_run_code(tmp_path):
    path = tmp_path / 'pytorch_model.bin'
    torch.save({'cls_token': torch.zeros(1, 1, 8), 'x': RunsCode()}, path)
    with pytest.raises(RuntimeError) as error:
        convert(str(path))
    message = str(error.value)
    assert f"Refused to read the source file '{path}'" in message
    assert 'would import and run shutil.rmtree' in message


def test_config_of_another_width(hf_vitmae, tmp_path):
    dst = str(tmp_path / 'mae.pth')
    save_converted(convert(hf_vitmae[0]), dst)
    cfg = tiny_config(SD_CONFIG)  # 64-d; the file is 32-d
    with pytest.raises(ConversionError) as error:
        check_against_config(dst, cfg)
    message = str(error.value)
    assert f"'{dst}' does not fit the model of {SD_CONFIG}" in message
    assert 'embed_dims: 32 vs 64' in message
    assert 'model.backbone.arch.embed_dims=32' in message
    # Only what differs: same image and patch size.
    assert 'model.backbone.img_size' not in message
    assert 'model.neck.patch_size' not in message
    assert 'model.backbone.norm_cfg.type=LN model.backbone.norm_cfg.eps=' \
        '1e-12' in message
    # Heads leave no trace in shapes: the recorded architecture catches
    # them.
    options = convert(hf_vitmae[0]).architecture.cfg_options('mae')
    cfg = tiny_config(SD_CONFIG, **options)
    assert check_against_config(dst, cfg)[1].startswith('backbone: all 30 ')
    cfg.merge_from_dict({'model.backbone.arch.num_heads': 4})
    with pytest.raises(ConversionError, match='num_heads: 2 vs 4'):
        check_against_config(dst, cfg)


def test_config_check_reports_keys_without_recorded_architecture(
        hf_vitmae, tmp_path):
    dst = str(tmp_path / 'mae.pth')
    converted = convert(hf_vitmae[0])
    save_converted(converted, dst)
    checkpoint = torch.load(dst, weights_only=True)
    del checkpoint['meta']['architecture']
    torch.save(checkpoint, dst)
    with pytest.raises(
            CheckpointMismatchError, match='shape mismatches.*cls_token'):
        check_against_config(dst, tiny_config(SD_CONFIG))


def test_heads_a_file_does_not_store(tmp_path):
    path = str(tmp_path / 'vit.pth')
    torch.save(timm_vit().state_dict(), path)
    with pytest.raises(
            ConversionError,
            match=f"'{path}' does not store the number of "
            'attention heads, and width 32 .* pass --num-heads'):
        convert(path)


def test_timm_parts_mmsd_does_not_have(tmp_path):
    path = str(tmp_path / 'vit.pth')
    torch.save(timm_vit(global_pool='avg', fc_norm=True).state_dict(), path)
    with pytest.raises(
            ConversionError,
            match=f"'{path}' has fc_norm.weight: a LayerNorm "
            'after average pooling'):
        convert(path, num_heads=2)


def test_wrong_format_and_missing_config(hf_vitmae, tmp_path):
    with pytest.raises(
            ConversionError,
            match="model_type='vit_mae'.*use --format hf-vitmae"):
        convert(hf_vitmae[0], 'hf-vit')
    weights = str(tmp_path / 'model.safetensors')
    shutil.copy(osp.join(hf_vitmae[0], 'model.safetensors'), weights)
    with pytest.raises(
            ConversionError,
            match='looks like Hugging Face weights.*config.json'):
        convert(weights)


def test_config_defaults_are_transformers_defaults():
    """A config.json may leave out defaults; mmsd's table of them matches
    transformers' config classes."""
    from transformers import Dinov2Config, ViTConfig, ViTMAEConfig
    for model_type, cls in (('vit', ViTConfig), ('vit_mae', ViTMAEConfig),
                            ('dinov2', Dinov2Config)):
        config = cls()
        for name, value in DEFAULTS[model_type].items():
            assert getattr(config, name) == value, (model_type, name)


def test_hf_config_without_defaults(hf_vitmae, tmp_path):
    path = str(tmp_path / 'sparse')
    shutil.copytree(hf_vitmae[0], path)
    with open(osp.join(path, 'config.json')) as f:
        config = json.load(f)
    for name in ('hidden_act', 'qkv_bias', 'num_channels', 'layer_norm_eps'):
        config.pop(name)
    with open(osp.join(path, 'config.json'), 'w') as f:
        json.dump(config, f)
    assert convert(path).architecture.ln_eps == 1e-12


@pytest.mark.e2e
def test_importing_mmsd_loads_no_timm_and_no_vit_models():
    code = ('import sys, mmsd, mmsd.converters; '
            "loaded = [m for m in sys.modules if m == 'timm' or "
            "m.startswith(('transformers.models.vit', "
            "'transformers.models.dinov2'))]; "
            'print(loaded); assert not loaded')
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_training_refuses_heads_and_eps_the_file_does_not_have(
        hf_vitmae, tmp_path):
    """Heads and LayerNorm eps leave no trace in keys or shapes; a file
    that records its architecture is checked against the model at load."""
    from mmpretrain.registry import MODELS
    dst = str(tmp_path / 'mae.pth')
    converted = convert(hf_vitmae[0])
    save_converted(converted, dst)
    options = converted.architecture.cfg_options('mae')
    for change, expected in (
        ({'model.backbone.arch.num_heads': 4}, 'num_heads: 2 vs 4'),
        ({'model.backbone.norm_cfg.eps': 1e-6}, 'ln_eps: 1e-12 vs 1e-06'),
        ({'model.neck.decoder_num_heads': 4}, 'decoder num_heads: 2 vs 4'),
    ):
        cfg = tiny_config(SD_CONFIG, **{**options, **change})
        cfg.model.init_checkpoint = dst
        model = MODELS.build(cfg.model)
        with pytest.raises(CheckpointMismatchError) as error:
            model.init_weights()
        message = str(error.value)
        assert f"The initial model file '{dst}'" in message, message
        assert expected in message, message
    cfg = tiny_config(SD_CONFIG, **options)
    cfg.model.init_checkpoint = dst
    MODELS.build(cfg.model).init_weights()  # the printed options fit
