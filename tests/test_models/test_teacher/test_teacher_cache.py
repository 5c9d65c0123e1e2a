# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from conftest import build_tiny_mae, perturb
from torch import nn

from mmsd.models import TeacherFeatureCache


class CountingTeacher(nn.Module):
    """A linear 'teacher' that records the batch sizes it was run on."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(12, 5)
        self.calls = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(x.shape[0])
        return self.linear(x.flatten(1))


def test_second_epoch_is_served_from_the_cache():
    torch.manual_seed(0)
    teacher, cache = CountingTeacher(), TeacherFeatureCache()
    data = torch.randn(6, 3, 2, 2)
    expected = teacher(data).detach()
    teacher.calls.clear()
    first = [cache.features(teacher, teacher, data[i:i + 3]) for i in (0, 3)]
    assert teacher.calls == [3, 3] and len(cache) == 6
    # A new batch order, and a batch mixing seen and unseen samples.
    second = cache.features(teacher, teacher, data[[5, 1, 3]])
    assert teacher.calls == [3, 3]
    torch.testing.assert_close(second, expected[[5, 1, 3]])
    torch.testing.assert_close(torch.cat(first), expected)
    new = torch.randn(1, 3, 2, 2)
    mixed = cache.features(teacher, teacher, torch.cat([data[:1], new]))
    assert teacher.calls == [3, 3, 1]  # only the new sample
    torch.testing.assert_close(mixed[1], teacher(new)[0].detach())
    assert (cache.hits, cache.misses) == (4, 7)
    assert '7 entries' in cache.summary() and '36.4 % hits' in cache.summary()
    assert not mixed.requires_grad


def test_changed_image_is_not_a_hit():
    torch.manual_seed(0)
    teacher, cache = CountingTeacher(), TeacherFeatureCache()
    data = torch.randn(2, 12)
    cache.features(teacher, teacher, data)
    data[1, 0] += 1e-3
    out = cache.features(teacher, teacher, data)
    assert teacher.calls == [2, 1]
    torch.testing.assert_close(out, teacher(data).detach())


@pytest.mark.parametrize('change', ['in_place', 'load_state_dict', 'replace'])
def test_changed_teacher_drops_every_entry(change):
    torch.manual_seed(0)
    teacher, cache = CountingTeacher(), TeacherFeatureCache()
    data = torch.randn(3, 12)
    cache.features(teacher, teacher, data)
    other = CountingTeacher()
    with torch.no_grad():
        if change == 'in_place':
            teacher.linear.bias.add_(1.0)
        elif change == 'load_state_dict':
            teacher.load_state_dict(other.state_dict())
        else:
            teacher.linear.weight = other.linear.weight
    out = cache.features(teacher, teacher, data)
    assert teacher.calls == [3, 3] and len(cache) == 3
    torch.testing.assert_close(out, teacher(data).detach())


def test_state_dict_round_trip_checks_the_teacher():
    torch.manual_seed(0)
    teacher, cache = CountingTeacher(), TeacherFeatureCache()
    data = torch.randn(3, 12)
    expected = cache.features(teacher, teacher, data)
    state = cache.state_dict(teacher)
    assert len(state['entries']) == 3
    assert all(isinstance(k, str) for k in state['entries'])
    copy = CountingTeacher()
    copy.load_state_dict(teacher.state_dict())
    restored = TeacherFeatureCache()
    assert restored.load_state_dict(state, copy)
    torch.testing.assert_close(
        restored.features(copy, copy, data), expected, rtol=0, atol=0)
    assert copy.calls == []  # all hits
    other = CountingTeacher()
    fresh = TeacherFeatureCache()
    assert not fresh.load_state_dict(state, other) and len(fresh) == 0


def test_precision_and_tag_are_part_of_the_key():
    torch.manual_seed(0)
    teacher, cache = CountingTeacher(), TeacherFeatureCache()
    data = torch.randn(2, 12)
    cache.features(teacher, teacher, data, tag='cls_token')
    cache.features(teacher, teacher, data, tag='mean_patch')
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = cache.features(teacher, teacher, data, tag='cls_token')
    assert teacher.calls == [2, 2, 2]
    assert low.dtype == torch.bfloat16


def test_max_entries_and_bad_arguments():
    torch.manual_seed(0)
    teacher = CountingTeacher()
    data = torch.randn(4, 12)
    expected = teacher(data).detach()
    teacher.calls.clear()
    small = TeacherFeatureCache(max_entries=3, device='cpu')
    out = small.features(teacher, teacher, data)
    assert len(small) == 3
    torch.testing.assert_close(out, expected)
    small.features(teacher, teacher, data)
    assert teacher.calls == [4, 1]  # the 4th sample had no room
    small.clear()
    assert len(small) == 0
    with pytest.raises(ValueError, match='max_entries must be positive'):
        TeacherFeatureCache(max_entries=0)


@pytest.mark.parametrize('value, todo', [
    (True, "put dict(type='TeacherCacheHook') in custom_hooks"),
    (dict(device='cpu', max_entries=8),
     "put dict(type='TeacherCacheHook', device='cpu', max_entries=8) in "
     'custom_hooks'),
    (False, 'leave TeacherCacheHook out of custom_hooks'),
])
def test_an_old_config_with_model_teacher_cache_says_what_to_write(
        value, todo):
    with pytest.raises(TypeError) as err:
        build_tiny_mae('SelfDistillMAE', teacher_cache=value)
    message = str(err.value)
    assert f'model.teacher_cache={value!r} is no longer an argument' in message
    assert 'delete model.teacher_cache and ' + todo in message


def test_self_distill_mae_cached_loss_equals_uncached(init_checkpoint):
    torch.manual_seed(0)
    model = build_tiny_mae(
        'SelfDistillMAE',
        init_checkpoint=init_checkpoint,
        teacher_checkpoint=init_checkpoint)
    model.init_weights()
    perturb(model.teacher)  # a teacher unlike the student
    cache = TeacherFeatureCache()
    data = torch.randn(4, 3, 32, 32)
    for batch in (data[:2], data[2:], data[[3, 0]]):
        state = torch.get_rng_state()
        model.use_teacher_cache(cache)
        cached = model.loss(batch, [])
        model.use_teacher_cache(None)
        torch.set_rng_state(state)
        plain = model.loss(batch, [])
        assert plain['loss_distill'] > 0
        torch.testing.assert_close(
            cached['loss_distill'], plain['loss_distill'], rtol=0, atol=0)
        torch.testing.assert_close(cached['loss_mae'], plain['loss_mae'])
    assert (cache.hits, cache.misses, len(cache)) == (2, 4, 4)
    assert next(iter(cache._entries.values())).shape == (64, )
    # A new teacher (the stage switch) empties the cache.
    model.use_teacher_cache(cache)
    model.start_distill()
    assert len(cache) == 0
