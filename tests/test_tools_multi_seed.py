# Copyright (c) mmsd contributors. All rights reserved.
"""The multi-seed runner: aggregation on known numbers, and a real run."""
import csv
import json
import os.path as osp
import sys

import numpy as np
import pytest
from conftest import FT_CONFIG, TINY_FT, run, tiny_config

from mmsd.experiments import multi_seed


def test_aggregation_on_known_numbers(tmp_path):
    records = [
        dict(row='FT', seed=0, seconds=1.0, **{'accuracy/top1': 70.0}),
        dict(row='FT', seed=1, seconds=1.0, **{'accuracy/top1': 72.0}),
        dict(row='FT', seed=2, seconds=1.0, **{'accuracy/top1': 77.0}),
        dict(row='SD', seed=0, seconds=1.0, **{'accuracy/top1': 80.0}),
        dict(row='SD', seed=1, seconds=1.0, **{'accuracy/top1': 81.0}),
    ]
    for record in records:
        record['single-label/f1-score'] = record['accuracy/top1'] / 2
    table = multi_seed.write_results(str(tmp_path), records)
    # Population std: FT sqrt(((-3)^2 + (-1)^2 + 4^2) / 3) = sqrt(26/3).
    ft_std = np.sqrt(26 / 3)
    assert table.splitlines()[0] == ('| row | seeds | top-1 (%) | '
                                     'macro-F1 (%) |')
    assert table.splitlines()[2] == (f'| FT | 3 | 73.00 ± {ft_std:.2f} | '
                                     f'36.50 ± {ft_std / 2:.2f} |')
    assert table.splitlines()[3] == '| SD | 2 | 80.50 ± 0.50 | 40.25 ± 0.25 |'
    with open(tmp_path / 'summary.csv') as f:
        summary = list(csv.DictReader(f))
    assert [r['row'] for r in summary] == ['FT', 'SD']
    assert summary[0]['seeds'] == '0 1 2'
    assert float(summary[0]['accuracy/top1 mean']) == 73.0
    assert float(summary[0]['accuracy/top1 std']) == pytest.approx(ft_std)
    with open(tmp_path / 'runs.csv') as f:
        assert len(list(csv.DictReader(f))) == 5
    assert (tmp_path / 'summary.md').read_text() == table + '\n'
    with pytest.raises(
            KeyError,
            match="'accuracy/top5' is missing from "
            r"the test results of \['FT', 'SD'\]"):
        multi_seed.write_results(str(tmp_path), records, ['accuracy/top5'])


def test_arguments_are_checked(tmp_path):
    with pytest.raises(SystemExit):
        multi_seed.parse_args([])
    with pytest.raises(FileNotFoundError, match="Row 'A': config 'nope.py'"):
        multi_seed.parse_args(['--row', 'A', 'nope.py'])
    with pytest.raises(ValueError, match="option 'seed' is not KEY=VALUE"):
        multi_seed.parse_args(['--row', 'A', FT_CONFIG, 'seed'])
    args = multi_seed.parse_args([FT_CONFIG, '--num-seeds', '3'])
    assert args.seeds == [0, 1, 2]
    assert args.rows[0].name == 'ft_vit-b-p16_sd_1xb32-10k_cub'


@pytest.mark.e2e
def test_trains_and_tests_every_seed_with_the_real_tools(
        tmp_path, image_root, init_checkpoint):
    cfg = tiny_config(
        FT_CONFIG, TINY_FT, **{
            'model.backbone_checkpoint': init_checkpoint,
            'model.regularizers': [dict(type='L2SPRegularizer')],
            'train_dataloader.dataset.data_root': image_root,
            'val_dataloader.dataset.data_root': image_root,
            'test_dataloader.dataset.data_root': image_root,
            'param_scheduler': [],
        })
    config = str(tmp_path / 'l2sp_tiny.py')
    cfg.dump(config)
    work = tmp_path / 'seeds'
    command = (sys.executable, 'tools/multi_seed.py', '--row', 'L2-SP', config,
               'train_cfg.max_iters=2', '--seeds', '3', '4', '--work-dir',
               str(work), '--cfg-options', 'train_cfg.val_interval=2')
    out = run(*command).stdout
    assert 'Mean ± std over seeds [3, 4]' in out
    top1 = []
    for seed in (3, 4):
        run_dir = work / 'L2-SP' / f'seed{seed}'
        assert osp.isfile(run_dir / 'iter_2.pth')
        with open(run_dir / 'test_metrics.json') as f:
            top1.append(json.load(f)['accuracy/top1'])
        # The seed, the row's and the shared options reached the run.
        dumped = (run_dir / 'l2sp_tiny.py').read_text()
        assert f'seed={seed}' in dumped
        assert 'max_iters=2' in dumped and 'val_interval=2' in dumped
    with open(work / 'summary.csv') as f:
        (summary, ) = list(csv.DictReader(f))
    assert summary['row'] == 'L2-SP' and summary['n'] == '2'
    assert float(summary['accuracy/top1 mean']) == pytest.approx(np.mean(top1))
    # A second call reuses the finished runs.
    assert f'✓ L2-SP, seed 3  finished run reused: {work}/L2-SP/seed3' in run(
        *command).stdout


def test_paired_difference_over_seeds():
    # Differences 1, 2, 3, 1, 3: mean 2, sample std 1, t = 2 / (1 / √5).
    result = multi_seed.paired_difference([71, 72, 73, 71, 73],
                                          [70, 70, 70, 70, 70])
    assert result['mean'] == pytest.approx(2.0)
    assert result['std'] == pytest.approx(1.0)
    assert result['t'] == pytest.approx(2 * 5**0.5)
    assert (result['higher'], result['lower'], result['n']) == (5, 0, 5)
    assert result['beyond_spread']  # 4.47 > 2.776 (4 degrees of freedom)
    # Same mean gap, noisier: within the spread, and the signs say so.
    noisy = multi_seed.paired_difference([75, 68, 74, 69, 74],
                                         [70, 70, 70, 70, 70])
    assert noisy['mean'] == pytest.approx(2.0)
    assert (noisy['higher'], noisy['lower']) == (3, 2)
    assert not noisy['beyond_spread']
    equal = multi_seed.paired_difference([1, 2], [1, 2])
    assert equal['t'] == 0 and not equal['beyond_spread']
    with pytest.raises(ValueError, match='same >= 2 seeds'):
        multi_seed.paired_difference([1, 2, 3], [1, 2])
