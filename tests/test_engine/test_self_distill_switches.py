# Copyright (c) mmsd contributors. All rights reserved.
"""The self-distillation switches in training runs of the tiny MAE:
several rounds in one run (SelfDistillStageHook with ``rounds`` or a list
of switch points), the student restarted from the teacher, no MAE term."""
import os
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
from conftest import REPO, make_runner
from mmengine.hooks import Hook

from mmsd.engine import SelfDistillStageHook
from mmsd.utils import read_state_dict


def ablation(name: str) -> str:
    """The ViT-B/16 CUB ablation config ``name`` (shrunk by the tests)."""
    return os.path.join(REPO, 'configs', 'self_distill',
                        f'sd_vit-b-p16_mae-in1k_1xb64-2x20k-{name}_cub.py')


def snapshot(module: torch.nn.Module) -> dict:
    return {k: v.clone() for k, v in module.state_dict().items()}


class StateRecorder(Hook):
    """The model and optimizer right before every iteration (after the
    stage hook switched) and the loss terms after it."""
    priority = 'LOWEST'

    def __init__(self):
        self.records, self.losses = {}, {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model
        cache = model.teacher_cache
        self.records[runner.iter] = dict(
            round=model.distill_round,
            lr=runner.optim_wrapper.get_lr()['lr'][0],
            opt_state=len(runner.optim_wrapper.optimizer.state),
            cache=None if cache is None else len(cache),
            backbone=snapshot(model.backbone),
            neck=snapshot(model.neck),
            teacher=snapshot(model.teacher))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.losses[runner.iter] = {
            k: float(v.detach())
            for k, v in outputs.items() if k.startswith('loss_')
        }


def train(runner) -> StateRecorder:
    recorder = StateRecorder()
    runner.register_hook(recorder)
    runner.train()
    return recorder


def assert_equal(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for key in expected:
        assert torch.equal(actual[key], expected[key]), key


def test_each_round_distils_towards_the_previous_rounds_student(
        image_root, init_checkpoint, tmp_path):
    record = train(
        make_runner(image_root, init_checkpoint, tmp_path, rounds=3))
    records = record.records
    assert [records[i]['round'] for i in range(8)] == [0, 0, 1, 1, 2, 2, 3, 3]
    initial = read_state_dict(init_checkpoint, 'backbone.')
    teachers = []
    for switch in (2, 4, 6):
        at = records[switch]
        # The teacher is the student that ended the round (the checkpoint
        # written right before the switch), the student restarted.
        ended = read_state_dict(
            str(tmp_path / f'iter_{switch}.pth'), 'backbone.')
        assert_equal(at['teacher'], ended)
        assert_equal(at['backbone'], initial)
        assert not torch.equal(ended['cls_token'], initial['cls_token'])
        # Its own LR schedule from the initial LR, a fresh optimizer.
        assert at['opt_state'] == 0 and records[switch - 1]['opt_state'] > 0
        assert at['lr'] == pytest.approx(1.5e-4)
        assert records[switch + 1]['lr'] == pytest.approx(0.75e-4)
        # The teacher cache starts empty with every teacher.
        assert at['cache'] == 0 and records[switch + 1]['cache'] > 0
        teachers.append(ended)
    # Every round's loss distils: loss_distill from round 1 on only.
    assert all(
        ('loss_distill' in record.losses[i]) == (i >= 2) for i in range(8))
    # Every round's encoder is exported under its round.
    final = read_state_dict(str(tmp_path / 'iter_8.pth'), 'backbone.')
    for k, expected in enumerate(teachers + [final]):
        saved = torch.load(
            tmp_path / f'round{k}_backbone.pth', weights_only=True)
        assert saved['meta']['round'] == k
        assert_equal(
            read_state_dict(
                str(tmp_path / f'round{k}_backbone.pth'), 'backbone.'),
            expected)
    assert_equal(
        read_state_dict(str(tmp_path / 'sd_backbone.pth'), 'backbone.'), final)


@pytest.mark.parametrize('resume_iter', [4, 5, 7])
def test_resume_at_and_inside_later_rounds_is_exact(image_root,
                                                    init_checkpoint, tmp_path,
                                                    resume_iter):
    full = tmp_path / 'full'
    expected = train(
        make_runner(image_root, init_checkpoint, full, rounds=3)).losses
    resumed = tmp_path / 'resumed'
    actual = train(
        make_runner(
            image_root,
            init_checkpoint,
            resumed,
            rounds=3,
            resume=True,
            load_from=str(full / f'iter_{resume_iter}.pth'))).losses
    assert sorted(actual) == list(range(resume_iter, 8))
    for iteration, losses in actual.items():
        assert losses == expected[iteration], iteration  # bit for bit
    assert_equal(
        read_state_dict(str(resumed / 'iter_8.pth')),
        read_state_dict(str(full / 'iter_8.pth')))


def test_switch_points_as_a_list(image_root, init_checkpoint, tmp_path):
    schedules = [
        dict(type='LinearLR', by_epoch=False, begin=begin, end=end)
        for begin, end in ((0, 2), (2, 3), (3, 5))
    ]
    runner = make_runner(
        image_root, init_checkpoint, tmp_path, **{
            'param_scheduler':
            schedules,
            'train_cfg.max_iters':
            5,
            'custom_hooks': [
                dict(type='SelfDistillStageHook', switch_iter=[2, 3]),
                dict(
                    type='ExportBackboneHook',
                    sources=dict(),
                    each_round='r{round}')
            ]
        })
    record = train(runner)
    assert [record.records[i]['round'] for i in range(5)] == [0, 0, 1, 2, 2]
    assert sorted(n for n in os.listdir(tmp_path)
                  if n.startswith('r')) == ['r0.pth', 'r1.pth', 'r2.pth']


def test_schedules_must_change_over_at_every_switch(image_root,
                                                    init_checkpoint, tmp_path):
    runner = make_runner(
        image_root,
        init_checkpoint,
        tmp_path,
        rounds=2,
        **{
            'param_scheduler': [
                dict(type='LinearLR', by_epoch=False, begin=0, end=2),
                dict(type='LinearLR', by_epoch=False, begin=2, end=6),
            ]
        })
    with pytest.raises(ValueError) as info:
        runner.train()
    message = str(info.value)
    for part in ('switch points [2, 4] do not fit',
                 'at 4: a schedule runs across it', 'LinearLR(lr) [2, 6)',
                 'custom_hooks.0.switch_iter (and rounds)'):
        assert part in message, message
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.pth')]


def test_resume_with_other_switch_points_is_refused(image_root,
                                                    init_checkpoint, tmp_path):
    full = tmp_path / 'full'
    make_runner(image_root, init_checkpoint, full, rounds=3).train()
    runner = make_runner(
        image_root,
        init_checkpoint,
        tmp_path / 'resumed',
        distill=6,
        resume=True,
        load_from=str(full / 'iter_5.pth'))
    with pytest.raises(
            RuntimeError,
            match='round 1 of switch points '
            r'\[2\], but the checkpoint holds a model in round 2'):
        runner.train()


def test_teacher_checkpoint_then_more_rounds(image_root, init_checkpoint,
                                             tmp_path):
    record = train(
        make_runner(
            image_root,
            init_checkpoint,
            tmp_path,
            rounds=2,
            **{'model.teacher_checkpoint': init_checkpoint}))
    assert sorted(record.records) == [2, 3, 4, 5]
    assert [record.records[i]['round'] for i in (2, 3, 4, 5)] == [1, 1, 2, 2]
    initial = read_state_dict(init_checkpoint, 'backbone.')
    assert_equal(record.records[2]['teacher'], initial)
    assert_equal(record.records[4]['teacher'],
                 read_state_dict(str(tmp_path / 'iter_4.pth'), 'backbone.'))
    # The given teacher is not exported again: round 1 and 2 only.
    assert not os.path.exists(tmp_path / 'round0_backbone.pth')
    assert os.path.isfile(tmp_path / 'round1_backbone.pth')


def test_a_teacher_export_is_refused_with_several_rounds(
        image_root, init_checkpoint, tmp_path):
    runner = make_runner(
        image_root,
        init_checkpoint,
        tmp_path,
        rounds=2,
        **{
            'custom_hooks': [
                dict(type='SelfDistillStageHook', switch_iter=2, rounds=2),
                dict(
                    type='ExportBackboneHook',
                    sources=dict(fpt_backbone='teacher.'))
            ]
        })
    with pytest.raises(
            ValueError,
            match="'fpt_backbone' would hold the "
            'teacher of the last of 2 rounds'):
        runner.train()


@pytest.mark.parametrize(
    'args, message',
    [(dict(switch_iter=2, rounds=0), 'rounds must be an int >= 1'),
     (dict(switch_iter=[2, 2]), 'increasing positive ints'),
     (dict(switch_iter=0), 'increasing positive ints'),
     (dict(switch_iter=[2, 4], rounds=3), 'gives 2 rounds, but rounds=3')])
def test_bad_switch_points_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        SelfDistillStageHook(**args)


def test_rounds_give_equal_stages():
    hook = SelfDistillStageHook(switch_iter=500, rounds=3)
    assert hook.switch_iters == [500, 1000, 1500]
    assert hook.switch_iter == 500 and hook.rounds == 3
    assert [hook.expected_round(i)
            for i in (0, 500, 501, 1000, 1501)] == [0, 0, 1, 1, 3]


def test_a_distributed_run_must_find_the_untrained_decoder():
    hook = SelfDistillStageHook(switch_iter=2)
    model = SimpleNamespace(unused_in_distill=lambda: ['neck'])
    path = 'mmsd.engine.hooks.self_distill_stage_hook.get_world_size'
    with mock.patch(path, return_value=2):
        for find in (False, True):
            runner = SimpleNamespace(
                model=SimpleNamespace(find_unused_parameters=find))
            if find:
                hook.check_unused_parameters(runner, model)
                continue
            with pytest.raises(
                    ValueError,
                    match="no parameters of \\['neck'"
                    r"\].*find_unused_parameters=True"):
                hook.check_unused_parameters(runner, model)
    with mock.patch(path, return_value=1):
        hook.check_unused_parameters(
            SimpleNamespace(model=SimpleNamespace()), model)


def test_a_run_with_the_student_restarted_from_the_teacher(
        image_root, init_checkpoint, tmp_path):
    record = train(
        make_runner(
            image_root,
            init_checkpoint,
            tmp_path,
            config=ablation('from-teacher')))
    ended = read_state_dict(str(tmp_path / 'iter_2.pth'))
    at = record.records[2]
    for part in ('backbone', 'neck'):  # the stage-1 student goes on
        assert_equal(
            at[part], {
                k[len(part) + 1:]: v
                for k, v in ended.items() if k.startswith(part + '.')
            })
    assert_equal(at['teacher'], at['backbone'])
    assert at['opt_state'] == 0 and at['lr'] == pytest.approx(1.5e-4)
    # The first step distils towards itself: nothing to learn yet.
    assert record.losses[2]['loss_distill'] == 0
    assert record.losses[3]['loss_distill'] > 0


def test_a_run_without_the_mae_term_leaves_the_decoder_untrained(
        image_root, init_checkpoint, tmp_path):
    record = train(
        make_runner(
            image_root, init_checkpoint, tmp_path, config=ablation('no-mae')))
    assert [sorted(record.losses[i]) for i in range(4)] == [['loss_mae'],
                                                            ['loss_mae'],
                                                            ['loss_distill'],
                                                            ['loss_distill']]
    initial_decoder = read_state_dict(init_checkpoint, 'neck.')
    final = read_state_dict(str(tmp_path / 'iter_4.pth'))
    # AdamW's weight decay would move a decoder with zero gradients; one
    # with none stays exactly at its restart point while the encoder moves.
    assert_equal(record.records[2]['neck'], initial_decoder)
    assert_equal({
        k[5:]: v
        for k, v in final.items() if k.startswith('neck.')
    }, initial_decoder)
    assert not torch.equal(final['backbone.cls_token'],
                           record.records[2]['backbone']['cls_token'])
    # Further pre-training trained the decoder.
    stage1 = read_state_dict(str(tmp_path / 'iter_2.pth'), 'neck.')
    assert not torch.equal(stage1['decoder_pred.weight'],
                           initial_decoder['decoder_pred.weight'])
