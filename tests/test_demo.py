# Copyright (c) mmsd contributors. All rights reserved.
"""The demo as a user runs it, at 2 iterations per stage: a short console
report, and stages that pass their checkpoints on; and what it shows of
the probe."""
import io
import os.path as osp
import sys

import pytest
import torch
from conftest import run

from mmsd.engine.hooks import RepresentationProbeHook
from mmsd.experiments import demo
from mmsd.experiments.console import StageConsole


@pytest.mark.e2e
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
    # The probe followed both stages: the initial model, stage 1's end
    # (the teacher, iteration 1) and the student's end (1 step of SD).
    for row in ('| initial model | 0 |', '| FPT, end (the teacher) | 1 |',
                '| SD student, end | 1 |'):
        assert sum(line.startswith(row) for line in console) == 1, row
    figure = osp.join(work_dir, 'demo_results.png')
    assert f'Plot:  {figure}' in console
    assert osp.getsize(figure) > 10000
    table = osp.join(work_dir, 'demo_results.md')
    assert f'Table: {table}' in console
    with open(table) as f:
        text = f.read()
    assert '| SD (self-distilled) | ' in text
    assert '| SD student, end | 1 |' in text
    assert (f'Logs:  {work_dir}/{{ft_fpt,ft_ft,ft_sd,sd,stage0}}/*.log '
            '(--verbose streams them)') in console
    curves = demo.probe_curves(osp.join(work_dir, 'sd'))
    assert sorted(curves['fpt']) == [0, 1] and sorted(curves['sd']) == [0, 1]
    assert curves['switch'] == 1
    for key in ('knn_top1', 'linear_top1', 'mae_heldout', 'mae_train'):
        assert 0 <= curves['sd'][1][key] < 100
    assert curves['sd'][0] is curves['fpt'][0]

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


def test_the_overfitting_warning_reaches_the_console(tmp_path):
    # The probe's own warning, logged by a stage's tool, is shown on the
    # demo's console even though the logs are not streamed.
    hook = RepresentationProbeHook(interval=100, heldout_dataloader=dict())
    curve = ((0, 0.80, None), (100, 0.55, 0.41), (200, 0.57, 0.30),
             (300, 0.60, 0.22), (400, 0.62, 0.15))
    for step, heldout, train_loss in curve:
        hook.history.append(
            dict(
                step=step,
                distilling=False,
                mae_heldout=heldout,
                train_loss=train_loss))
        hook._check_overfitting(step)
    message = hook.warning['message']
    line = f'12/03 13:00:00 - mmengine - WARNING - {message}'
    stream = io.StringIO()
    with StageConsole(
            highlight=[demo.OVERFITTING_WARNING], stream=stream) as console:
        with console.stage('Stages 1+2') as stage:
            stage.run('train', [sys.executable, '-c', f'print({line!r})'],
                      str(tmp_path / 'train.log'), str(tmp_path))
    shown = stream.getvalue().splitlines()
    assert f'  Stages 1+2: WARNING: {message}' in shown
    assert len(shown) == 3, shown  # the stage's start, the warning, its end


def test_probe_table_shows_the_points_of_the_story():

    def record(knn, heldout):
        return dict(
            knn_top1=knn,
            linear_top1=knn + 1,
            mae_heldout=heldout,
            mae_train=heldout - 0.25)

    fpt = {
        0: record(57.1, 0.80),
        250: record(62.1, 0.53),
        500: record(62.8, 0.56),
        1000: record(61.0, 0.58)
    }
    curves = dict(
        fpt=fpt,
        sd={
            0: fpt[0],
            500: record(64.0, 0.55)
        },
        switch=1000,
        warning=None)
    lines = demo.probe_table(curves).splitlines()
    assert lines[0] == ('| probed encoder | iteration | kNN top-1 (%) | '
                        'linear top-1 (%) | MAE loss, unseen | '
                        'MAE loss, target |')
    assert lines[2:] == [
        '| initial model | 0 | 57.1 | 58.1 | 0.800 | 0.550 |',
        '| FPT, lowest unseen MAE loss | 250 | 62.1 | 63.1 | 0.530 | 0.280 |',
        '| FPT, end (the teacher) | 1000 | 61.0 | 62.0 | 0.580 | 0.330 |',
        '| SD student, end | 500 | 64.0 | 65.0 | 0.550 | 0.300 |',
    ]


def test_target_root_reaches_every_probe_loader():
    # --target-root moves the probe sets with the target set: the kNN bank
    # is the target images themselves.
    options = demo.probe_loader_options('data_root', '/data/fmnist')
    assert options == [
        f'custom_hooks.3.{loader}_dataloader.dataset.data_root=/data/fmnist'
        for loader in ('bank', 'query', 'heldout', 'train_eval')
    ]


@pytest.mark.e2e
def test_a_missing_target_root_stops_before_any_stage(tmp_path):
    result = run(
        sys.executable,
        'tools/run_demo.py',
        '--target-root',
        str(tmp_path / 'fashion'),
        '--work-dir',
        str(tmp_path / 'demo'),
        check=False,
        timeout=60)
    assert result.returncode == 2
    assert f'--target-root {tmp_path / "fashion"}: no such folder' in \
        result.stderr
    assert not osp.exists(tmp_path / 'demo')
