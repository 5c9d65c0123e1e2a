# Copyright (c) mmsd contributors. All rights reserved.
"""The demo pipeline chains its stages correctly (2 iterations each)."""
import os.path as osp

import pytest
import torch

from mmsd.experiments import demo

pytestmark = pytest.mark.e2e


def test_pipeline_passes_checkpoints_between_stages(tmp_path, capfd):
    work_dir = str(tmp_path)
    results = demo.run_pipeline(
        work_dir,
        stage0_options=['train_cfg.max_iters=2'],
        sd_options=[
            'train_cfg.max_iters=2', 'custom_hooks.0.switch_iter=1',
            'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
            'param_scheduler.1.end=2', 'default_hooks.logger.interval=1'
        ],
        ft_options=[
            'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
            'default_hooks.logger.interval=1'
        ])
    captured = capfd.readouterr()
    log = captured.out + captured.err
    assert set(results) == {'FT', 'FPT', 'SD'}
    for metrics in results.values():
        assert 0 <= metrics['accuracy/top1'] <= 100
    # SD starts from stage 0's weights; each fine-tune loads its encoder
    # with every key matched.
    initial = osp.join(work_dir, 'stage0', 'iter_2.pth')
    assert f'Loaded 54 tensors of the initial from {initial}' in log
    for name in ('stage0/iter_2.pth', 'sd/fpt_backbone.pth',
                 'sd/sd_backbone.pth'):
        path = osp.join(work_dir, name)
        assert (f'Loaded 54 tensors of the backbone from {path} into '
                'VisionTransformer (all keys matched)') in log
    teacher = torch.load(
        osp.join(work_dir, 'sd', 'fpt_backbone.pth'), weights_only=True)
    student = torch.load(
        osp.join(work_dir, 'sd', 'sd_backbone.pth'), weights_only=True)
    assert not torch.equal(teacher['state_dict']['backbone.cls_token'],
                           student['state_dict']['backbone.cls_token'])

    table = demo.results_table(results)
    assert table.count('\n') == 4 and '| SD (self-distilled) |' in table
    figure = str(tmp_path / 'demo.png')
    demo.plot(work_dir, results, figure)
    assert osp.getsize(figure) > 10000
