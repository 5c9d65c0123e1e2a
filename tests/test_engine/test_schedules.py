# Copyright (c) mmsd contributors. All rights reserved.
from types import SimpleNamespace

import pytest

from mmsd.engine.schedules import schedule_spans, switch_problem


def sched(begin, end, by_epoch=False):
    return SimpleNamespace(
        begin=begin, end=end, by_epoch=by_epoch, param_name='lr')


@pytest.mark.parametrize('schedulers, switches, problem', [
    ([sched(0, 3), sched(3, 6)], [3], None),
    ([sched(0, 2), sched(2, 3), sched(3, 6)], [3], None),
    ([sched(0, 3), sched(3, 6), sched(6, 9)], [3, 6], None),
    ([sched(0, 3), sched(3, 6)], [1], 'at 1: a schedule runs across it'),
    ([sched(0, 3), sched(4, 6)], [3],
     'at 3: no schedule of the next stage begins there'),
    ([sched(0, 2), sched(3, 6)], [3],
     'at 3: no schedule of the stage before ends there'),
    ([sched(0, 3), sched(3, 6), sched(6, 9)], [3, 7],
     'at 7: a schedule runs across it'),
    ([sched(0, 3, by_epoch=True), sched(3, 6)], [3],
     'a schedule counts epochs (by_epoch=True)'),
])
def test_switch_problem(schedulers, switches, problem):
    assert switch_problem(schedulers, switches) == problem


def test_schedule_spans_name_every_scheduler():
    assert schedule_spans([sched(0, 3), sched(3, 6)]) == (
        'param_scheduler.0: SimpleNamespace(lr) [0, 3); '
        'param_scheduler.1: SimpleNamespace(lr) [3, 6)')
