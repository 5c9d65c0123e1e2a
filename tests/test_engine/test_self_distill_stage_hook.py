# Copyright (c) mmsd contributors. All rights reserved.
import os.path as osp

import pytest
import torch
from conftest import make_runner
from mmengine.hooks import Hook

from mmsd.utils import read_state_dict


class RecordHook(Hook):
    """Records the model state right before every training iteration."""
    priority = 'LOWEST'

    def __init__(self):
        self.records = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model
        self.records[runner.iter] = dict(
            distill=model.distill_enabled,
            lr=runner.optim_wrapper.get_lr()['lr'][0],
            opt_state=len(runner.optim_wrapper.optimizer.state),
            backbone={
                k: v.clone()
                for k, v in model.backbone.state_dict().items()
            },
            teacher={
                k: v.clone()
                for k, v in model.teacher.state_dict().items()
            })


def test_switch_sets_teacher_and_restarts_student(image_root, init_checkpoint,
                                                  tmp_path):
    runner = make_runner(image_root, init_checkpoint, tmp_path)
    record = RecordHook()
    runner.register_hook(record)
    runner.train()
    before, after = record.records[1], record.records[2]
    initial = read_state_dict(init_checkpoint, 'backbone.')
    # Stage 1 trained the student away from the initial weights.
    assert not torch.equal(before['backbone']['cls_token'],
                           initial['cls_token'])
    assert not before['distill'] and after['distill']
    # Right after the switch: teacher == stage-1 encoder (after its last
    # update), student == initial weights, fresh optimizer, initial LR.
    stage1_final = read_state_dict(str(tmp_path / 'iter_2.pth'), 'backbone.')
    for key, value in after['teacher'].items():
        torch.testing.assert_close(value, stage1_final[key])
    for key, value in after['backbone'].items():
        torch.testing.assert_close(value, initial[key])
    assert after['opt_state'] == 0 and before['opt_state'] > 0
    assert after['lr'] == pytest.approx(1.5e-4)
    assert before['lr'] < 1.5e-4
    # The optimizer never moves the teacher during stage 2.
    final = read_state_dict(str(tmp_path / 'iter_4.pth'))
    for key, value in after['teacher'].items():
        torch.testing.assert_close(final['teacher.' + key], value)
    # Both encoders are exported, tensors-only.
    fpt = torch.load(tmp_path / 'fpt_backbone.pth', weights_only=True)
    torch.testing.assert_close(fpt['state_dict']['backbone.cls_token'],
                               after['teacher']['cls_token'])
    assert osp.isfile(tmp_path / 'sd_backbone.pth')


@pytest.mark.parametrize('resume_iter', [1, 2, 3])
def test_resume_before_at_and_after_switch_is_exact(image_root,
                                                    init_checkpoint, tmp_path,
                                                    resume_iter):
    full = tmp_path / 'full'
    make_runner(image_root, init_checkpoint, full, distill=3).train()
    resumed = tmp_path / 'resumed'
    make_runner(
        image_root,
        init_checkpoint,
        resumed,
        distill=3,
        resume=True,
        load_from=str(full / f'iter_{resume_iter}.pth')).train()
    expected = read_state_dict(str(full / 'iter_5.pth'))
    actual = read_state_dict(str(resumed / 'iter_5.pth'))
    assert expected.keys() == actual.keys()
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], msg=key)


def test_teacher_checkpoint_skips_stage_one(image_root, init_checkpoint,
                                            tmp_path):
    runner = make_runner(image_root, init_checkpoint, tmp_path,
                         **{'model.teacher_checkpoint': init_checkpoint})
    record = RecordHook()
    runner.register_hook(record)
    runner.train()
    assert sorted(record.records) == [2, 3]
    assert all(r['distill'] for r in record.records.values())
    assert record.records[2]['lr'] == pytest.approx(1.5e-4)
    assert record.records[3]['lr'] == pytest.approx(0.75e-4)
    assert not osp.exists(tmp_path / 'iter_1.pth')
    # The log says where the run starts, as it does.
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    assert 'starting in round 1 at iteration 2.' in log
    assert 'starting in round 1 at iteration 0' not in log


def test_hook_needs_initial_checkpoint(image_root, tmp_path):
    runner = make_runner(image_root, None, tmp_path)
    with pytest.raises(ValueError, match='set model.init_checkpoint'):
        runner.train()


@pytest.mark.parametrize('teacher_given', [False, True])
def test_stage_two_warmup_starts_from_the_restarted_lr(image_root,
                                                       init_checkpoint,
                                                       tmp_path,
                                                       teacher_given):
    """A stage-2 warmup scales the restarted LR, not stage 1's last one
    (which is 0 after a decay to 0)."""
    base_lr = 1.5e-4
    warmup = dict(type='LinearLR', start_factor=0.1, by_epoch=False)
    options = {
        'param_scheduler': [
            dict(
                type='LinearLR',
                start_factor=1.0,
                end_factor=0.0,
                by_epoch=False,
                begin=0,
                end=2),
            dict(**warmup, begin=2, end=5),  # 0.1, 0.55, 1.0 (MMEngine's)
            dict(
                type='LinearLR',
                start_factor=1.0,
                end_factor=0.5,
                by_epoch=False,
                begin=5,
                end=6),
        ]
    }
    if teacher_given:
        options['model.teacher_checkpoint'] = init_checkpoint
    runner = make_runner(
        image_root, init_checkpoint, tmp_path, distill=4, **options)
    record = RecordHook()
    runner.register_hook(record)
    runner.train()
    lrs = {it: r['lr'] for it, r in record.records.items()}
    assert lrs[2] == pytest.approx(0.1 * base_lr)
    assert lrs[3] == pytest.approx(0.55 * base_lr)
    assert lrs[4] == pytest.approx(base_lr)
    assert lrs[5] == pytest.approx(base_lr)
