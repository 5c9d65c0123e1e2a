# Copyright (c) mmsd contributors. All rights reserved.
"""The regularisers through the real tools: w0 is the fine-tune's start
and a resumed run keeps it (and ends exactly where the uninterrupted run
ends)."""
import sys

import pytest
import torch
from conftest import FT_CONFIG, TINY_FT, run, tiny_config

from mmsd.engine.hooks.mars_projection_hook import max_abs_row_sum
from mmsd.utils import read_state_dict

pytestmark = pytest.mark.e2e

RADIUS = 0.05


def all_baselines_config(tmp_path, image_root, init_checkpoint) -> str:
    cfg = tiny_config(
        FT_CONFIG, TINY_FT, **{
            'model.backbone_checkpoint':
            init_checkpoint,
            'model.regularizers': [
                dict(type='L2SPRegularizer'),
                dict(type='R3FRegularizer', sigma=0.1)
            ],
            'optim_wrapper.optimizer':
            dict(type='RecAdam', anneal_k=1.0, anneal_t0=2, pretrain_cof=10.0),
            'optim_wrapper.paramwise_cfg.custom_keys': {
                'head.': dict(anneal_w=0.0)
            },
            'custom_hooks': [dict(type='MARSProjectionHook', radius=RADIUS)],
            'train_dataloader.dataset.data_root':
            image_root,
            'val_dataloader.dataset.data_root':
            image_root,
            'test_dataloader.dataset.data_root':
            image_root,
            'train_cfg.max_iters':
            3,
            'train_cfg.val_interval':
            3,
            'param_scheduler': [],
        })
    path = str(tmp_path / 'baselines_tiny.py')
    cfg.dump(path)
    return path


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def test_w0_is_the_start_and_resume_keeps_it(tmp_path, image_root,
                                             init_checkpoint):
    config = all_baselines_config(tmp_path, image_root, init_checkpoint)
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    log = run(sys.executable, 'tools/train.py', config, '--work-dir',
              str(straight)).stdout
    assert 'loss_l2sp:' in log and 'loss_r3f:' in log
    log = run(sys.executable, 'tools/train.py', config, '--work-dir',
              str(resumed), '--resume', str(straight / 'iter_1.pth')).stdout
    assert 'resumed epoch: 0, iter: 1' in log
    assert not (resumed / 'iter_1.pth').exists()

    start = read_state_dict(init_checkpoint, 'backbone.')
    first = load(straight / 'iter_1.pth')['state_dict']
    assert not torch.equal(first['backbone.cls_token'], start['cls_token'])
    end = load(straight / 'iter_3.pth')
    end_resumed = load(resumed / 'iter_3.pth')
    for key, value in end['state_dict'].items():
        torch.testing.assert_close(
            end_resumed['state_dict'][key], value, msg=key)

    for checkpoint in (end, end_resumed):
        weights = checkpoint['state_dict']
        # L2-SP: the anchor buffers hold the loaded backbone.
        for key, value in start.items():
            anchor = weights['regularizers.0.anchor.backbone/' +
                             key.replace('.', '/')]
            assert torch.equal(anchor, value), key
        # RecAdam: one anchor per backbone parameter, each a start tensor.
        anchors = [
            state['anchor']
            for state in checkpoint['optimizer']['state'].values()
            if 'anchor' in state
        ]
        assert len(anchors) == len(start)
        for anchor in anchors:
            assert any(torch.equal(anchor, value) for value in start.values())
        # MARS: the anchor is the start; every layer is within the radius.
        mars = checkpoint['mars_anchor']
        assert mars and all(
            torch.equal(value, start[key[len('backbone.'):]])
            for key, value in mars.items())
        for key, value in mars.items():
            assert max_abs_row_sum(weights[key] - value) <= RADIUS * 1.0001
