# Copyright (c) mmsd contributors. All rights reserved.
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

from ..schedules import (param_schedulers, replay_without, restart_optimizer,
                         skip_to)
from ..utils import model_with


@HOOKS.register_module()
class SelfDistillStageHook(Hook):
    """Run further pre-training and self-distillation in one training run.

    Iterations ``[0, switch_iter)`` are stage 1 (further pre-training of the
    student). Before iteration ``switch_iter`` the hook calls the model's
    :meth:`~mmsd.models.SelfDistillMixin.start_distill` (the encoder becomes
    the frozen teacher, the student restarts from its initial weights), then
    clears the optimizer state and restores every learning rate to its
    initial value, so that stage 2 runs the same recipe as a fresh run. Pair
    it with one LR schedule per stage, the second beginning at
    ``switch_iter``: before training, the hook refuses schedules that do not
    change over there (:meth:`check_schedules`).

    If the model starts in stage 2 (it was given a ``teacher_checkpoint``),
    stage 1 is skipped: the first iteration is numbered ``switch_iter`` and
    the schedules are advanced to it, so iterations, schedules and
    checkpoints mean the same as in a two-stage run. The stage is part of
    the model's state, so resuming from any checkpoint continues in the
    right stage, and a resumed run that skipped stage 1 replays only the
    batches it drew, so it continues exactly too.

    Args:
        switch_iter (int): Number of further pre-training iterations.
    """
    # Before RuntimeInfoHook, so the logged LR is the one used.
    priority = 'HIGHEST'

    def __init__(self, switch_iter: int) -> None:
        if switch_iter <= 0:
            raise ValueError(f'SelfDistillStageHook: switch_iter must be '
                             f'positive, got {switch_iter}.')
        self.switch_iter = switch_iter

    def _model(self, runner):
        return model_with(runner, 'start_distill', self, 'SelfDistillMAE')

    def before_train(self, runner) -> None:
        """Check the model and the schedule fit a two-stage run."""
        model = self._model(runner)
        model.check_restartable()
        if runner.max_iters <= self.switch_iter:
            raise ValueError(f'SelfDistillStageHook: switch_iter='
                             f'{self.switch_iter} leaves no self-distillation'
                             f' iterations (max_iters={runner.max_iters}).')
        self.check_schedules(runner)
        if runner.iter > self.switch_iter and not model.distill_enabled:
            raise RuntimeError(
                f'Resumed at iteration {runner.iter} >= switch_iter='
                f'{self.switch_iter}, but the checkpoint holds no teacher.')
        if runner.iter > 0 and model.teacher_checkpoint is not None:
            # Resuming a run that skipped stage 1: it drew a batch for each
            # iteration from switch_iter on only.
            replay_without(runner, self.switch_iter)
        stage = 2 if model.distill_enabled else 1
        # A teacher checkpoint skips stage 1 (before_train_iter jumps).
        start = self.switch_iter if stage == 2 and runner.iter == 0 \
            else runner.iter
        print_log(
            f'Self-distillation run: iterations [0, {self.switch_iter}) '
            f'further pre-train, [{self.switch_iter}, {runner.max_iters}) '
            f'self-distill; starting in stage {stage} at iteration {start}.',
            logger='current')

    def check_schedules(self, runner) -> None:
        """Refuse parameter schedules whose stages do not change at
        ``switch_iter``.

        Stage 2 restarts the learning rate at ``switch_iter``; a schedule
        still running there (e.g. ``switch_iter`` moved without the
        schedules) goes on from its stage-1 position, and a decay to 0 then
        trains stage 2 at a learning rate of 0.
        """
        schedulers = param_schedulers(runner)
        if not schedulers:
            return
        switch = self.switch_iter
        spans = '; '.join(
            f'param_scheduler.{i}: {type(s).__name__}({s.param_name}) '
            f'[{s.begin}, {s.end})' for i, s in enumerate(schedulers))
        problem = None
        if any(s.by_epoch for s in schedulers):
            problem = 'a schedule counts epochs (by_epoch=True)'
        elif any(s.begin < switch < s.end for s in schedulers):
            problem = 'a schedule runs across it'
        elif not any(s.begin == switch for s in schedulers):
            problem = 'no schedule of stage 2 begins there'
        else:
            stage1_ends = [s.end for s in schedulers if s.begin < switch]
            if stage1_ends and switch not in stage1_ends:
                problem = 'no schedule of stage 1 ends there'
        if problem is None:
            return
        hooks = [h.get('type') for h in runner.cfg.get('custom_hooks', [])]
        index = hooks.index(type(self).__name__) \
            if type(self).__name__ in hooks else 0
        raise ValueError(
            f'SelfDistillStageHook: switch_iter={switch} does not fit the '
            f'parameter schedules: {problem}. Schedules (in iterations): '
            f'{spans}; max_iters={runner.max_iters}. Stage 1\'s schedules '
            'must end at switch_iter and stage 2\'s begin there, counted '
            f'in iterations: set custom_hooks.{index}.switch_iter and the '
            'end of the last stage-1 schedule and the begin of the first '
            'stage-2 schedule above (e.g. param_scheduler.0.end, '
            'param_scheduler.1.begin) to the same iteration, and '
            'train_cfg.max_iters to the end of stage 2.')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Switch stages (or skip stage 1) at the right iteration."""
        model = self._model(runner)
        if runner.iter == 0 and model.distill_enabled:
            print_log(
                'The model has a teacher checkpoint: skipping stage 1, '
                f'starting self-distillation at iteration {self.switch_iter}.',
                logger='current')
            skip_to(runner, self.switch_iter)
            restart_optimizer(runner, self.switch_iter)
        elif runner.iter == self.switch_iter and not model.distill_enabled:
            model.start_distill()
            restart_optimizer(runner, self.switch_iter)
            print_log(
                f'Iteration {runner.iter}: stage 1 done. The encoder is now '
                'the frozen teacher; the student restarted from '
                f'{model.initial_weights}.',
                logger='current')
