# Copyright (c) mmsd contributors. All rights reserved.
"""The CR-ILD regime configs (``configs/crild/regime/``), run in-process on
the tiny BERT for a few iterations: what the benchmark reads from their
logs is there and means what it says."""
import json
import os.path as osp

import pytest
from conftest import REPO, write_text_data
from mmengine.config import Config
from mmengine.runner import Runner

from mmsd.experiments import read_scalars

REGIME = osp.join(REPO, 'configs', 'crild', 'regime')
STAGE_A = {
    'crild': 'crild-a_minilm-l6-l3_1xb32-40e_rotten-tomatoes-small.py',
    'last': 'ild-last_minilm-l6-l3_1xb32-40e_rotten-tomatoes-small.py',
    'all': 'ild-all_minilm-l6-l3_1xb32-40e_rotten-tomatoes-small.py',
}


@pytest.fixture(scope='module')
def regime_root(tmp_path_factory) -> str:
    """train.jsonl (24 texts) and heldout.jsonl (24 others), labelled with
    the regime configs' classes."""
    root = str(tmp_path_factory.mktemp('regime'))
    write_text_data(root)
    names = dict(neg='rotten', pos='fresh')
    for source, target in (('train', 'train'), ('test', 'heldout')):
        with open(osp.join(root, f'{source}.jsonl')) as f:
            records = [json.loads(line) for line in f]
        with open(osp.join(root, f'{target}.jsonl'), 'w') as f:
            for record in records:
                record['label'] = names[record['label']]
                f.write(json.dumps(record) + '\n')
    return root


def stage_a_runner(name, student, teacher, root, work_dir) -> Runner:
    """Stage A for 2 epochs of 3 iterations (batch 8), validated after
    each, the student saved after the first."""
    cfg = Config.fromfile(osp.join(REGIME, STAGE_A[name]))
    cfg.merge_from_dict({
        'model.student': student,
        'model.teacher': teacher,
        'model.num_student_layers': 1,
        'train_dataloader.dataset.data_root': root,
        'val_dataloader.dataset.data_root': root,
        'val_cfg.splits.train.dataset.data_root': root,
        'train_dataloader.batch_size': 8,
        'train_cfg.max_epochs': 2,
        'train_cfg.val_interval': 1,
        'custom_hooks.0.epochs': [1],
        'default_hooks.logger.interval': 1,
        'work_dir': str(work_dir),
        'randomness.seed': 0,
    })
    return Runner.from_cfg(cfg)


def test_crild_logs_its_ramped_consistency_and_clean_losses(
        tiny_bert_dir, crild_teacher_dir, regime_root, tmp_path):
    runner = stage_a_runner('crild', tiny_bert_dir, crild_teacher_dir,
                            regime_root, tmp_path)
    runner.train()
    scalars = read_scalars(str(tmp_path))
    train = [s for s in scalars if 'consistency_weight' in s]
    # ramp_iters='all': 0.1 x iteration / 6 iterations, at every iteration.
    assert [s['step'] for s in train] == [1, 2, 3, 4, 5, 6]
    for record in train:
        assert record['consistency_weight'] == pytest.approx(
            0.1 * record['step'] / 6, rel=1e-5)
        assert record['loss_consistency'] > 0
    val = [s for s in scalars if 'heldout/loss_attention' in s]
    assert len(val) == 2  # after each epoch
    for record in val:
        for split in ('heldout', 'train'):
            for key in ('loss_attention', 'loss_hidden', 'last_attention',
                        'last_hidden'):
                assert record[f'{split}/{key}'] > 0, (split, key)
    for snapshot in ('student_epoch_1', 'student'):
        assert osp.isfile(tmp_path / snapshot / 'config.json')
    assert not osp.exists(tmp_path / 'student_epoch_2')


def test_the_ild_baselines_have_no_consistency(tiny_bert_dir,
                                               crild_teacher_dir, regime_root,
                                               tmp_path):
    for name in ('last', 'all'):
        runner = stage_a_runner(name, tiny_bert_dir, crild_teacher_dir,
                                regime_root, tmp_path / name)
        model = runner.model
        assert model.mixup is None and model.consistency is None
        assert model.layer_pairs == [(1, 2)]
        assert model.hidden_pairs == ([(1, 2)] if name == 'last' else [(0, 0),
                                                                       (1, 2)])
    cfg = Config.fromfile(osp.join(REGIME, STAGE_A['crild']))
    assert cfg.model.consistency.weight == 0.1
    assert cfg.model.consistency.ramp_iters == 'all'
    assert cfg.model.mixup == dict(alpha=1.0)


def test_snapshots_need_an_epoch_based_loop(tiny_bert_dir, crild_teacher_dir,
                                            regime_root, tmp_path):
    runner = stage_a_runner('last', tiny_bert_dir, crild_teacher_dir,
                            regime_root, tmp_path)
    runner._train_loop = dict(type='IterBasedTrainLoop', max_iters=2)
    with pytest.raises(ValueError, match='epochs=\\[1\\] needs an epoch'):
        runner.train()
