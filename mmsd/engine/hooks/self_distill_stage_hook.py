# Copyright (c) mmsd contributors. All rights reserved.
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

from ..utils import get_ori_model


@HOOKS.register_module()
class SelfDistillStageHook(Hook):
    """Run further pre-training and self-distillation in one training run.

    Iterations ``[0, switch_iter)`` are stage 1 (further pre-training of the
    student). Before iteration ``switch_iter`` the hook freezes the current
    encoder as the teacher, restarts the student (encoder and decoder) from
    the model's ``init_checkpoint``, clears the optimizer state and restores
    every learning rate to its initial value, so that stage 2 runs the same
    recipe as a fresh run. Pair it with one LR schedule per stage, the second
    beginning at ``switch_iter``.

    If the model was given a ``teacher_checkpoint``, stage 1 is skipped: the
    first iteration is numbered ``switch_iter`` and the schedules are
    advanced to it, so iterations, schedules and checkpoints mean the same as
    in a two-stage run. The stage is part of the model's state, so resuming
    from any checkpoint continues in the right stage.

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

    @staticmethod
    def _algorithm(runner):
        model = get_ori_model(runner.model)
        if not hasattr(model, 'start_distill'):
            raise TypeError('SelfDistillStageHook needs a model with a '
                            'teacher (e.g. SelfDistillMAE), got '
                            f'{type(model).__name__}.')
        return model

    def before_train(self, runner) -> None:
        """Check the model and the schedule fit a two-stage run."""
        model = self._algorithm(runner)
        if model.init_checkpoint is None:
            raise ValueError('SelfDistillStageHook: set model.init_checkpoint;'
                             ' the student restarts from it after stage 1.')
        if runner.max_iters <= self.switch_iter:
            raise ValueError(f'SelfDistillStageHook: switch_iter='
                             f'{self.switch_iter} leaves no self-distillation'
                             f' iterations (max_iters={runner.max_iters}).')
        if runner.iter > self.switch_iter and not model.distill_enabled:
            raise RuntimeError(
                f'Resumed at iteration {runner.iter} >= switch_iter='
                f'{self.switch_iter}, but the checkpoint holds no teacher.')
        stage = 2 if model.distill_enabled else 1
        print_log(
            f'Self-distillation run: iterations [0, {self.switch_iter}) '
            f'further pre-train, [{self.switch_iter}, {runner.max_iters}) '
            f'self-distill; starting in stage {stage} at iteration '
            f'{runner.iter}.',
            logger='current')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Switch stages (or skip stage 1) at the right iteration."""
        model = self._algorithm(runner)
        if runner.iter == 0 and model.distill_enabled:
            print_log(
                'The model has a teacher checkpoint: skipping stage 1, '
                f'starting self-distillation at iteration {self.switch_iter}.',
                logger='current')
            self._advance_schedules(runner)
            self._reset_optimizer(runner)
        elif runner.iter == self.switch_iter and not model.distill_enabled:
            model.start_distill()
            self._reset_optimizer(runner)
            print_log(
                f'Iteration {runner.iter}: stage 1 done. The encoder is now '
                'the frozen teacher; the student restarted from '
                f'{model.init_checkpoint}.',
                logger='current')

    @staticmethod
    def _schedulers(runner) -> list:
        schedulers = runner.param_schedulers or []
        if isinstance(schedulers, dict):
            schedulers = [s for group in schedulers.values() for s in group]
        return schedulers

    def _advance_schedules(self, runner) -> None:
        runner.train_loop._iter = self.switch_iter
        for scheduler in self._schedulers(runner):
            for _ in range(self.switch_iter):
                scheduler.step()

    def _reset_optimizer(self, runner) -> None:
        """Clear the optimizer state and restart the learning rates (and
        momenta) of stage 2 from their initial values."""
        runner.optim_wrapper.optimizer.state.clear()
        # ``OptimWrapper.param_groups`` also holds the base settings that
        # the schedulers update.
        for group in runner.optim_wrapper.param_groups:
            for key in [k for k in group if k.startswith('initial_')]:
                group[key[len('initial_'):]] = group[key]
        # A stage-2 scheduler took its first step (e.g. a warmup's start
        # factor) on stage 1's last value: apply it to the restarted value.
        for scheduler in self._schedulers(runner):
            if scheduler.begin == self.switch_iter and \
                    scheduler.last_step == 0:
                groups = scheduler.optimizer.param_groups
                for group, value in zip(groups, scheduler._get_value()):
                    group[scheduler.param_name] = value
                scheduler._last_value = [
                    group[scheduler.param_name] for group in groups
                ]
