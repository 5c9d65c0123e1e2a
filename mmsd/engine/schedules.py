# Copyright (c) mmsd contributors. All rights reserved.
"""Move a run's iteration counter, parameter schedules and optimizer to the
start of a new stage.

MMEngine has no public way to do this, so this module is the one place
where mmsd uses its private members (``train_loop._iter`` and the
schedulers' ``_get_value``/``_last_value``) and replaces the train loop's
``dataloader_iterator``.
"""
from typing import Iterator, List, Optional, Sequence

from mmengine.optim import _ParamScheduler


def param_schedulers(runner) -> List[_ParamScheduler]:
    """Every parameter scheduler of the run, in one list."""
    schedulers = runner.param_schedulers or []
    if isinstance(schedulers, dict):
        schedulers = [s for group in schedulers.values() for s in group]
    return schedulers


def skip_to(runner, iteration: int) -> None:
    """Start training at ``iteration``: the counter and every schedule move
    there as if the iterations before it had run."""
    runner.train_loop._iter = iteration
    for scheduler in param_schedulers(runner):
        for _ in range(iteration):
            scheduler.step()


def restart_optimizer(runner, begin: int) -> None:
    """Clear the optimizer state and restart the learning rates (and
    momenta) from their initial values, for schedules that begin at
    ``begin``."""
    runner.optim_wrapper.optimizer.state.clear()
    # ``OptimWrapper.param_groups`` also holds the base settings that the
    # schedulers update.
    for group in runner.optim_wrapper.param_groups:
        for key in [k for k in group if k.startswith('initial_')]:
            group[key[len('initial_'):]] = group[key]
    # A scheduler beginning here took its first step (e.g. a warmup's start
    # factor) on the last value of the previous stage: apply it to the
    # restarted value.
    for scheduler in param_schedulers(runner):
        if scheduler.begin == begin and scheduler.last_step == 0:
            groups = scheduler.optimizer.param_groups
            for group, value in zip(groups, scheduler._get_value()):
                group[scheduler.param_name] = value
            scheduler._last_value = [
                group[scheduler.param_name] for group in groups
            ]


class _ReplayWithout:
    """A dataloader iterator whose first ``count`` draws return None
    without drawing a batch."""

    def __init__(self, iterator: Iterator, count: int) -> None:
        self.iterator = iterator
        self.count = count

    def __iter__(self):
        return self

    def __next__(self):
        if self.count > 0:
            self.count -= 1
            return None
        return next(self.iterator)


def replay_without(runner, iterations: int) -> None:
    """Make a resumed run replay ``iterations`` fewer batches.

    On resume, MMEngine's ``IterBasedTrainLoop`` draws (and drops) as many
    batches as the iteration it resumes at, to continue the data where the
    interrupted run was. A run that started at ``iterations`` (see
    :func:`skip_to`) drew that many fewer; call this before the loop
    replays (``before_train``).
    """
    loop = runner.train_loop
    loop.dataloader_iterator = _ReplayWithout(loop.dataloader_iterator,
                                              iterations)


def schedule_spans(schedulers: Sequence[_ParamScheduler]) -> str:
    """``param_scheduler.i: Type(param) [begin, end)`` for every scheduler,
    for error messages."""
    return '; '.join(
        f'param_scheduler.{i}: {type(s).__name__}({s.param_name}) '
        f'[{s.begin}, {s.end})' for i, s in enumerate(schedulers))


def switch_problem(schedulers: Sequence[_ParamScheduler],
                   switch_iters: Sequence[int]) -> Optional[str]:
    """What keeps the schedules from changing over at every switch point,
    or None: each stage's schedules must end at its switch point and the
    next stage's begin there, counted in iterations."""
    if any(s.by_epoch for s in schedulers):
        return 'a schedule counts epochs (by_epoch=True)'
    for start, switch in zip([0, *switch_iters], switch_iters):
        at = f'at {switch}: '
        if any(s.begin < switch < s.end for s in schedulers):
            return at + 'a schedule runs across it'
        if not any(s.begin == switch for s in schedulers):
            return at + 'no schedule of the next stage begins there'
        ends = [s.end for s in schedulers if start <= s.begin < switch]
        if ends and switch not in ends:
            return at + 'no schedule of the stage before ends there'
    return None
