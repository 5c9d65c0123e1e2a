# Copyright (c) mmsd contributors. All rights reserved.
import functools
from types import SimpleNamespace

import conftest
import pytest
import torch
from conftest import build_tiny_mae, two_stage_options
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmsd.engine import TeacherCacheHook
from mmsd.models import TeacherFeatureCache
from mmsd.utils import read_state_dict


class LossRecordHook(Hook):
    """Records every iteration's ``loss_distill``."""
    priority = 'LOWEST'

    def __init__(self):
        self.losses = {}

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if 'loss_distill' in outputs:  # keyed by the logged number
            self.losses[runner.iter + 1] = outputs['loss_distill'].item()


def assert_same_weights(expected_file, actual_file) -> None:
    """Equal up to float rounding. The key part of ``attn.qkv.bias`` has
    a zero gradient in exact arithmetic (softmax ignores a shift shared by
    all keys), so AdamW turns its rounding noise into steps of up to the
    LR: there the tolerance is the LR."""
    expected = read_state_dict(str(expected_file))
    actual = read_state_dict(str(actual_file))
    assert expected.keys() == actual.keys()
    for key in expected:
        atol = 1.5e-4 if key.endswith('attn.qkv.bias') else 1e-6
        torch.testing.assert_close(
            actual[key], expected[key], rtol=0, atol=atol, msg=key)


# 12 images in batches of 4: the distillation iterations span >2 epochs.
make_runner = functools.partial(conftest.make_runner, further=1, distill=7)


def train(runner: Runner) -> LossRecordHook:
    record = LossRecordHook()
    runner.register_hook(record)
    runner.train()
    return record


def without_cache_hook(hooks: list) -> list:
    return [hook for hook in hooks if hook['type'] != 'TeacherCacheHook']


def test_cached_training_gives_the_same_losses(image_root, init_checkpoint,
                                               tmp_path):
    hooks = two_stage_options(1, 7)['custom_hooks']
    plain_runner = make_runner(
        image_root,
        init_checkpoint,
        tmp_path / 'plain',
        custom_hooks=without_cache_hook(hooks))
    plain = train(plain_runner)
    assert plain_runner.model.teacher_cache is None
    cached_runner = make_runner(image_root, init_checkpoint,
                                tmp_path / 'cached')
    cached = train(cached_runner)
    cache = cached_runner.model.teacher_cache
    assert isinstance(cache, TeacherFeatureCache)
    # 7 distillation iterations x 4 images over 12 images.
    assert (cache.misses, cache.hits, len(cache)) == (12, 16, 12)
    assert sorted(cached.losses) == list(range(2, 9))
    # The first epoch computes the teacher on the same batches: bit for
    # bit. Later, features computed in another batch differ in float
    # rounding only (CPU matrix products are not batch-invariant).
    assert cached.losses[2] == plain.losses[2]
    assert cached.losses[3] == plain.losses[3]
    for it, loss in plain.losses.items():
        assert cached.losses[it] == pytest.approx(loss, rel=1e-5, abs=0)
    assert_same_weights(tmp_path / 'plain' / 'iter_8.pth',
                        tmp_path / 'cached' / 'iter_8.pth')


def test_random_pipeline_turns_the_cache_off(image_root, init_checkpoint,
                                             tmp_path):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=32),
        dict(type='PackInputs'),
    ]
    runner = make_runner(
        image_root,
        init_checkpoint,
        tmp_path,
        distill=2,
        **{'train_dataloader.dataset.pipeline': pipeline})
    record = train(runner)
    assert runner.model.teacher_cache is None
    assert len(record.losses) == 2
    log = open(runner.logger.log_file).read()
    assert ('Teacher-feature cache off: transform RandomResizedCrop in '
            'train_dataloader.dataset.pipeline is random') in log


def test_the_hook_needs_a_model_that_can_use_a_cache():
    runner = SimpleNamespace(model=build_tiny_mae())
    with pytest.raises(
            TypeError,
            match="TeacherCacheHook needs a model with 'use_teacher_cache' "
            r'\(e.g. SelfDistillMAE\), got FurtherPretrainMAE.'):
        TeacherCacheHook().before_train(runner)
    with pytest.raises(ValueError, match='max_entries must be positive'):
        TeacherCacheHook(max_entries=0)


@pytest.mark.parametrize('resume_iter', [1, 5])
def test_resume_with_the_cache_continues_identically(image_root,
                                                     init_checkpoint, tmp_path,
                                                     resume_iter):
    full = tmp_path / 'full'
    expected = train(make_runner(image_root, init_checkpoint, full)).losses
    saved = torch.load(full / f'iter_{resume_iter}.pth', weights_only=False)
    # Stage 1 has no teacher features; stage 2 saves those seen so far.
    entries = len(saved.get('teacher_cache', {}).get('entries', {}))
    assert entries == 0 if resume_iter == 1 else 0 < entries <= 12
    resumed = make_runner(
        image_root,
        init_checkpoint,
        tmp_path / 'resumed',
        resume=True,
        load_from=str(full / f'iter_{resume_iter}.pth'))
    actual = train(resumed).losses
    # The checkpoint's entries were restored into the resumed run's cache.
    cache = resumed.model.teacher_cache
    assert set(saved.get('teacher_cache', {}).get('entries',
                                                  {})) <= set(cache._entries)
    assert sorted(actual) == list(range(resume_iter + 1, 9))
    # The checkpoint's entries make the resumed run exact.
    assert actual == {k: v for k, v in expected.items() if k in actual}
    final = read_state_dict(str(full / 'iter_8.pth'))
    again = read_state_dict(str(tmp_path / 'resumed' / 'iter_8.pth'))
    for key in final:
        torch.testing.assert_close(again[key], final[key], rtol=0, atol=0)


def test_saved_entries_of_another_teacher_are_ignored(image_root,
                                                      init_checkpoint,
                                                      tmp_path):
    full = tmp_path / 'full'
    train(make_runner(image_root, init_checkpoint, full, distill=3))
    checkpoint = torch.load(full / 'iter_3.pth', weights_only=False)
    entries = len(checkpoint['teacher_cache']['entries'])
    assert entries == 8  # 2 distillation iterations of 4 new images
    checkpoint['state_dict']['teacher.cls_token'] += 1.0
    changed = str(tmp_path / 'changed.pth')
    torch.save(checkpoint, changed)
    resumed = make_runner(
        image_root,
        init_checkpoint,
        tmp_path / 'resumed',
        distill=3,
        resume=True,
        load_from=changed)
    train(resumed)
    cache = resumed.model.teacher_cache
    # One batch, recomputed: none of the 8 saved entries was used or kept.
    assert (cache.hits, cache.misses, len(cache)) == (0, 4, 4)
