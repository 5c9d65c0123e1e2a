# Copyright (c) mmsd contributors. All rights reserved.
"""Every config in configs/ loads and builds its model."""
import glob
import os.path as osp

import pytest
import torch
from conftest import REPO, SD_CONFIG
from mmengine.config import Config
from mmpretrain.registry import MODELS

CONFIGS = sorted(
    path for path in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in path)


def test_every_dataset_and_size_has_three_stages():
    names = {osp.basename(path) for path in CONFIGS}
    for data in ('cub', 'aircraft', 'dtd', 'flowers102', 'dogs', 'chest-xray'):
        assert f'fpt_vit-b-p16_mae-in1k_1xb64-20k_{data}.py' in names
        assert f'sd_vit-b-p16_mae-in1k_1xb64-2x20k_{data}.py' in names
        assert f'ft_vit-b-p16_sd_1xb32-10k_{data}.py' in names
    for size in 'sl':
        assert f'sd_vit-{size}-p16_mae-in1k_1xb64-2x20k_cub.py' in names


def test_every_dataset_has_the_baseline_rows():
    names = {osp.basename(path) for path in CONFIGS}
    for data in ('cub', 'aircraft', 'dtd', 'flowers102', 'dogs', 'chest-xray'):
        for row in ('ft_vit-b-p16_mae-in1k', 'ft_vit-b-p16_fpt',
                    'l2sp_vit-b-p16_mae-in1k', 'recadam_vit-b-p16_mae-in1k',
                    'mars_vit-b-p16_mae-in1k', 'r3f_vit-b-p16_mae-in1k'):
            assert f'{row}_1xb32-10k_{data}.py' in names
    for row in ('l2sp', 'recadam', 'mars', 'r3f'):
        assert f'{row}_vit-tiny-p7_1xb64-1k_fashion-mnist.py' in names


@pytest.mark.parametrize('data', ['cub', 'dtd'])
def test_baseline_rows_differ_from_plain_finetuning_only_by_the_switch(data):
    by_name = {osp.basename(path): path for path in CONFIGS}

    def load(name):
        return Config.fromfile(by_name[name]).to_dict()

    plain = load(f'ft_vit-b-p16_mae-in1k_1xb32-10k_{data}.py')
    assert plain['model']['backbone_checkpoint'] == (
        'checkpoints/mae_vit-base-p16_in1k.pth')
    assert 'regularizers' not in plain['model']
    assert plain['optim_wrapper']['optimizer']['type'] == 'AdamW'
    for row in ('l2sp', 'r3f', 'recadam', 'mars'):
        cfg = load(f'{row}_vit-b-p16_mae-in1k_1xb32-10k_{data}.py')
        for key in ('train_dataloader', 'param_scheduler', 'train_cfg'):
            assert cfg[key] == plain[key], (row, key)
        model = dict(cfg['model'])
        regularizers = model.pop('regularizers', [])
        assert model == plain['model'], row
        assert len(regularizers) == (1 if row in ('l2sp', 'r3f') else 0)
        optimizer = cfg['optim_wrapper']['optimizer']
        assert optimizer['lr'] == 1e-4
        assert (optimizer['type'] == 'RecAdam') == (row == 'recadam')
        hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
        assert hooks == (['MARSProjectionHook'] if row == 'mars' else [])


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_builds_model(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert 'mmsd' in cfg.custom_imports['imports']
    try:
        with torch.device('meta'):
            model = MODELS.build(cfg.model)
    except RuntimeError as err:
        # MMPretrain's ResNet calls Tensor.item() in __init__, which the
        # meta device cannot answer; such models are built on the CPU.
        assert 'meta' in str(err), err
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == cfg.model.type
    assert sum(p.numel() for p in model.parameters()) > 0
    if cfg.model.type == 'SelfDistillMAE':
        assert not any(p.requires_grad for p in model.teacher.parameters())


def test_sd_vit_b_cub_trains_one_step_on_cpu():
    """The entry config's real ViT-B/16: one loss + backward at 224 px."""
    cfg = Config.fromfile(SD_CONFIG)
    cfg.model.init_checkpoint = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.teacher.load_state_dict(model.backbone.state_dict())
    model.distill_enabled = True
    model.train()
    losses = model.loss(torch.randn(2, 3, 224, 224), [])
    assert set(losses) == {'loss_mae', 'loss_distill'}
    sum(losses.values()).backward()
    assert model.backbone.cls_token.grad is not None
    assert all(p.grad is None for p in model.teacher.parameters())
