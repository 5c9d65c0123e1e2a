# Copyright (c) mmsd contributors. All rights reserved.
"""SelfDistillStageHook(teacher='probe_best'): each round's teacher is the
encoder of the step where RepresentationProbeHook was best, kept during the
round and across a resume."""
import os.path as osp
from unittest import mock

import pytest
import torch
from conftest import REPO, make_runner, two_stage_options
from mmengine.hooks import Hook

from mmsd.engine import RepresentationProbeHook, SelfDistillStageHook
from mmsd.utils import read_state_dict

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='PackInputs'),
]


def probe(image_root: str, **options) -> dict:
    """A probe of the held-out MAE loss only, at every iteration."""
    return dict(
        type='RepresentationProbeHook',
        interval=1,
        heldout_dataloader=dict(
            batch_size=4,
            num_workers=0,
            dataset=dict(
                type='CustomDataset',
                data_root=image_root,
                data_prefix='train',
                pipeline=PIPELINE)),
        **options)


def stage(**options) -> dict:
    return dict(
        type='SelfDistillStageHook',
        switch_iter=[4, 6],
        teacher='probe_best',
        **options)


class TeacherRecorder(Hook):
    """The teacher right before every iteration, and the losses after."""
    priority = 'LOWEST'

    def __init__(self):
        self.teachers, self.losses = {}, {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.teachers[runner.iter] = {
            k: v.clone()
            for k, v in runner.model.teacher.state_dict().items()
        }

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.losses[runner.iter] = {
            k: float(v.detach())
            for k, v in outputs.items() if k.startswith('loss')
        }


def scripted(values: dict):
    """Patch the probe's held-out MAE loss to ``values[step]``."""
    original = RepresentationProbeHook._probe
    current = {}

    def probe_at(self, runner, step):
        current['step'] = step
        return original(self, runner, step)

    def mae_loss(self, model, key):
        return values[current['step']]

    return mock.patch.multiple(
        RepresentationProbeHook, _probe=probe_at, _mae_loss=mae_loss)


# Round 0 is [0, 4): best at step 2. Round 1 is [4, 6): best at 5 (the
# probe at 4 is of round 0's student). Round 2 is [6, 8).
LOSSES = {0: 1.0, 1: 0.9, 2: 0.5, 3: 0.7, 4: 0.8, 5: 0.6, 6: 0.65, 7: 1, 8: 1}


def train(image_root, init_checkpoint, work_dir, losses=LOSSES, **options):
    runner = make_runner(
        image_root, init_checkpoint, work_dir, further=4, rounds=2, **options)
    [hook] = [h for h in runner.hooks if isinstance(h, SelfDistillStageHook)]
    recorder = TeacherRecorder()
    runner.register_hook(recorder)
    with scripted(losses):
        runner.train()
    return hook, recorder


def equal(actual: dict, expected: dict) -> bool:
    assert actual.keys() == expected.keys()
    return all(torch.equal(actual[k], expected[k]) for k in expected)


def with_stage(image_root, **options) -> dict:
    """The tiny run's hooks with the probe, choosing the teacher."""
    hooks = two_stage_options(4, 2, 2)['custom_hooks']
    hooks[0] = stage(**options)
    return {'custom_hooks': hooks + [probe(image_root)]}


def test_each_round_freezes_the_encoder_where_the_probe_was_best(
        image_root, init_checkpoint, tmp_path):
    _, record = train(image_root, init_checkpoint, tmp_path,
                      **with_stage(image_root))
    backbone = {
        step: read_state_dict(str(tmp_path / f'iter_{step}.pth'), 'backbone.')
        for step in (2, 4, 5, 6)
    }
    assert equal(record.teachers[4], backbone[2])
    assert not equal(record.teachers[4], backbone[4])
    assert equal(record.teachers[6], backbone[5])
    assert not equal(record.teachers[6], backbone[6])
    # The round-1 student restarted from the initial weights all the same.
    initial = read_state_dict(init_checkpoint, 'backbone.')
    assert equal(record.teachers[5], backbone[2])
    assert not equal(initial, backbone[2])


def test_the_initial_encoder_when_the_probe_never_improved(
        image_root, init_checkpoint, tmp_path):
    rising = {step: 1.0 + step for step in range(9)}
    _, record = train(
        image_root,
        init_checkpoint,
        tmp_path,
        losses=rising,
        **with_stage(image_root))
    assert equal(record.teachers[4],
                 read_state_dict(init_checkpoint, 'backbone.'))


@pytest.mark.parametrize('resume_at', [3, 4, 5])
def test_resume_freezes_the_same_teacher_and_losses(image_root,
                                                    init_checkpoint, tmp_path,
                                                    resume_at):
    options = with_stage(image_root)
    _, full = train(image_root, init_checkpoint, tmp_path / 'full', **options)
    checkpoint = torch.load(
        tmp_path / 'full' / f'iter_{resume_at}.pth',
        map_location='cpu',
        weights_only=True)
    # The kept encoder travels in the checkpoint: round 0's best, or round
    # 1's start (step 5's probe ran after iter_5.pth; the resumed run keeps
    # it before its first iteration).
    assert checkpoint['self_distill_stage']['best']['step'] == {
        3: 2,
        4: 2,
        5: 4
    }[resume_at]
    _, resumed = train(
        image_root,
        init_checkpoint,
        tmp_path / 'resumed',
        resume=True,
        load_from=str(tmp_path / 'full' / f'iter_{resume_at}.pth'),
        **options)
    assert sorted(resumed.losses) == list(range(resume_at, 8))
    for step in resumed.losses:
        assert resumed.losses[step] == full.losses[step], step
    for step in (6, 7):
        assert equal(resumed.teachers[step], full.teachers[step])


def test_a_checkpoint_without_the_kept_encoder_is_refused(
        image_root, init_checkpoint, tmp_path):
    options = with_stage(image_root)
    train(image_root, init_checkpoint, tmp_path / 'full', **options)
    path = tmp_path / 'full' / 'iter_3.pth'
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    del checkpoint['self_distill_stage']
    torch.save(checkpoint, path)
    with pytest.raises(
            RuntimeError, match='best at step 2, the hook kept step None'):
        train(
            image_root,
            init_checkpoint,
            tmp_path / 'resumed',
            resume=True,
            load_from=str(path),
            **options)


def test_a_probe_that_never_ran_in_the_round_is_refused(
        image_root, init_checkpoint, tmp_path):
    options = with_stage(image_root)
    options['custom_hooks'][-1]['interval'] = 10
    with pytest.raises(
            RuntimeError,
            match='measured none in the round; make its '
            'interval divide'):
        train(image_root, init_checkpoint, tmp_path, **options)


@pytest.mark.parametrize('options, message', [
    (dict(probe_prefix='other'),
     "prefix='other' in custom_hooks; the run has prefixes \\['probe'\\]"),
    (dict(probe_metric='knn_top1'),
     "'probe' does not measure knn_top1: give it bank_dataloader"),
])
def test_a_run_without_the_chosen_probe_is_refused(image_root, init_checkpoint,
                                                   tmp_path, options, message):
    runner = make_runner(
        image_root,
        init_checkpoint,
        tmp_path,
        further=4,
        rounds=2,
        **with_stage(image_root, **options))
    with pytest.raises(ValueError, match=message):
        runner.train()


@pytest.mark.parametrize('args, message', [
    (dict(teacher='best'), "teacher='best' is not one of"),
    (dict(probe_metric='loss'), "probe_metric='loss' is not one of"),
])
def test_bad_teacher_choices_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        SelfDistillStageHook(switch_iter=2, **args)


def test_the_probe_best_cub_config_builds():
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(
            REPO, 'configs', 'self_distill',
            'sd-probe_vit-b-p16_mae-in1k_1xb64-2x20k-best-teacher_cub.py'))
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert hooks['SelfDistillStageHook']['teacher'] == 'probe_best'
    hook = SelfDistillStageHook(**{
        k: v
        for k, v in hooks['SelfDistillStageHook'].items() if k != 'type'
    })
    probe = hooks['RepresentationProbeHook']
    assert probe['heldout_dataloader'] is not None
    assert hook.switch_iter % probe['interval'] == 0
