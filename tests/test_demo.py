# Copyright (c) mmsd contributors. All rights reserved.
"""The demo as a user runs it, at 2 iterations per stage: a short console
report, and stages that pass their checkpoints on."""
import os.path as osp
import sys

import pytest
import torch
from conftest import run

pytestmark = pytest.mark.e2e


def test_smoke_run_reports_briefly_and_chains_the_stages(tmp_path):
    work_dir = str(tmp_path)
    result = run(sys.executable, 'tools/run_demo.py', '--smoke-test',
                 '--work-dir', work_dir)
    console = (result.stdout + result.stderr).splitlines()
    assert len(console) < 40, '\n'.join(console)
    for row in ('FT (initial model)', 'FPT (further pre-trained)',
                'SD (self-distilled)'):
        assert sum(line.startswith(f'| {row} | ') for line in console) == 1
    for stage in ('Stage 0', 'Stages 1+2', 'Stage 3: FT', 'Stage 3: FPT',
                  'Stage 3: SD'):
        assert sum(line.startswith(f'✓ {stage}') for line in console) == 1
    figure = osp.join(work_dir, 'demo_results.png')
    assert f'Plot:  {figure}' in console
    assert osp.getsize(figure) > 10000
    assert f'Table: {osp.join(work_dir, "demo_results.md")}' in console
    assert (f'Logs:  {work_dir}/{{ft_fpt,ft_ft,ft_sd,sd,stage0}}/*.log '
            '(--verbose streams them)') in console

    def log(stage, tool='train'):
        with open(osp.join(work_dir, stage, f'{tool}.log')) as f:
            return f.read()

    # SD starts from stage 0's weights; each fine-tune loads its encoder
    # with every key matched, and is tested.
    initial = osp.join(work_dir, 'stage0', 'iter_2.pth')
    assert (f'Loaded 54 tensors of the initial model from {initial} into '
            'MAEViT (all keys matched)') in log('sd')
    encoders = dict(
        ft='stage0/iter_2.pth',
        fpt='sd/fpt_backbone.pth',
        sd='sd/sd_backbone.pth')
    for row, name in encoders.items():
        path = osp.join(work_dir, name)
        assert (f'Loaded 54 tensors of the backbone from {path} into '
                'VisionTransformer (all keys matched)') in log(f'ft_{row}')
        assert 'accuracy/top1' in log(f'ft_{row}', 'test')
    teacher = torch.load(
        osp.join(work_dir, 'sd', 'fpt_backbone.pth'), weights_only=True)
    student = torch.load(
        osp.join(work_dir, 'sd', 'sd_backbone.pth'), weights_only=True)
    assert not torch.equal(teacher['state_dict']['backbone.cls_token'],
                           student['state_dict']['backbone.cls_token'])
