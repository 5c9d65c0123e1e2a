# Copyright (c) mmsd contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

from ..schedules import (param_schedulers, replay_without, restart_optimizer,
                         schedule_spans, skip_to, switch_problem)
from ..utils import model_with


@HOOKS.register_module()
class SelfDistillStageHook(Hook):
    """Run further pre-training and one or more rounds of self-distillation
    in one training run.

    Implementation of the stage switch of `Self-Distillation for Further
    Pre-training of Transformers <https://arxiv.org/abs/2210.02871>`_, and
    of its repeated form: iterations ``[0, s_1)`` are stage 1 (further
    pre-training of the student), ``[s_k, s_k+1)`` are round ``k`` of
    self-distillation, where ``s_1 < s_2 < ...`` are the switch points.
    Before iteration ``s_k`` the hook calls the model's
    :meth:`~mmsd.models.SelfDistillMixin.start_distill` (the student's
    encoder becomes the frozen teacher of round ``k``, the student restarts
    from its initial weights, or as the model's ``restart_from`` says), then
    clears the optimizer state and restores every learning rate to its
    initial value, so that every round runs the same recipe as a fresh run.
    Pair it with one LR schedule per stage, each beginning at its switch
    point: before training, the hook refuses schedules that do not change
    over at every switch point (:meth:`check_schedules`).

    If the model starts in round 1 (it was given a ``teacher_checkpoint``),
    stage 1 is skipped: the first iteration is numbered ``s_1`` and the
    schedules are advanced to it, so iterations, schedules and checkpoints
    mean the same as in a run with stage 1. The round is part of the
    model's state, so resuming from any checkpoint continues in the right
    round, and a resumed run that skipped stage 1 replays only the batches
    it drew, so it continues exactly too.

    With ``teacher='probe_best'`` (beyond the paper, which freezes the last
    step), each round's teacher is the student's encoder at the step of
    that round where a :class:`RepresentationProbeHook` (``probe_prefix``)
    was best on ``probe_metric`` (lowest ``mae_heldout``, which needs no
    labels, or highest ``knn_top1`` / ``linear_top1``). The hook keeps a
    copy of the encoder of the best step so far (on the CPU, saved in
    checkpoints so a resumed run freezes the same one); the probe must
    measure that metric at least once in every round that ends in a switch,
    after the round's start.

    Args:
        switch_iter (int | Sequence[int]): The switch points: the number of
            further pre-training iterations (with ``rounds``, every stage
            is that long: switches at ``switch_iter``, ``2 * switch_iter``,
            ...), or the increasing list of iterations where each round of
            self-distillation begins.
        rounds (int): Rounds of self-distillation when ``switch_iter`` is
            an int; the student of round ``k`` is the teacher of round
            ``k + 1``. Defaults to 1 (the paper).
        teacher (str): Which encoder of a round becomes the next round's
            teacher: ``'last'`` (the paper) or ``'probe_best'``. Defaults
            to 'last'.
        probe_prefix (str): The ``prefix`` of the probe hook that chooses
            with ``teacher='probe_best'``. Defaults to 'probe'.
        probe_metric (str): Its value that chooses: ``'mae_heldout'``,
            ``'mae_train'``, ``'knn_top1'`` or ``'linear_top1'``. Defaults
            to 'mae_heldout'.
    """
    TEACHERS = ('last', 'probe_best')
    PROBE_METRICS = {
        'mae_heldout': 'heldout',
        'mae_train': 'train',
        'knn_top1': 'bank',
        'linear_top1': 'bank'
    }
    # Before RuntimeInfoHook, so the logged LR is the one used.
    priority = 'HIGHEST'

    def __init__(self,
                 switch_iter: Union[int, Sequence[int]],
                 rounds: int = 1,
                 teacher: str = 'last',
                 probe_prefix: str = 'probe',
                 probe_metric: str = 'mae_heldout') -> None:
        name = type(self).__name__
        if teacher not in self.TEACHERS:
            raise ValueError(f'{name}: teacher={teacher!r} is not one of '
                             f'{self.TEACHERS}.')
        if probe_metric not in self.PROBE_METRICS:
            raise ValueError(f'{name}: probe_metric={probe_metric!r} is not '
                             f'one of {tuple(self.PROBE_METRICS)}.')
        self.teacher = teacher
        self.probe_prefix = probe_prefix
        self.probe_metric = probe_metric
        # teacher='probe_best': the round, step and encoder weights of the
        # best probe of the current round so far.
        self.best: Optional[dict] = None
        self._probe = None
        if isinstance(switch_iter, int):
            if not isinstance(rounds, int) or rounds < 1:
                raise ValueError(f'{name}: rounds must be an int >= 1, got '
                                 f'{rounds!r}.')
            switch_iters = [switch_iter * k for k in range(1, rounds + 1)]
        else:
            switch_iters = list(switch_iter)
            if rounds != 1 and rounds != len(switch_iters):
                raise ValueError(
                    f'{name}: switch_iter={switch_iters} gives '
                    f'{len(switch_iters)} rounds, but rounds={rounds}; give '
                    'the list alone, or an int switch_iter with rounds.')
        if not switch_iters or any(
                not isinstance(s, int) for s in switch_iters) or any(
                    b <= a for a, b in zip([0] + switch_iters, switch_iters)):
            raise ValueError(f'{name}: switch_iter must be a positive int or '
                             'a list of increasing positive ints, got '
                             f'{switch_iter!r}.')
        self.switch_iters: List[int] = switch_iters

    @property
    def switch_iter(self) -> int:
        """The end of further pre-training (the first switch point)."""
        return self.switch_iters[0]

    @property
    def rounds(self) -> int:
        """Rounds of self-distillation."""
        return len(self.switch_iters)

    def _model(self, runner):
        return model_with(runner, 'start_distill', self, 'SelfDistillMAE')

    def expected_round(self, iteration: int) -> int:
        """The round of a run about to train iteration ``iteration`` (before
        any switch at that iteration)."""
        return sum(s < iteration for s in self.switch_iters)

    def before_train(self, runner) -> None:
        """Check the model and the schedule fit the run's stages."""
        model = self._model(runner)
        model.check_restartable()
        name = type(self).__name__
        last = self.switch_iters[-1]
        if runner.max_iters <= last:
            raise ValueError(f'{name}: the last switch at iteration {last} '
                             'leaves no self-distillation iterations '
                             f'(max_iters={runner.max_iters}).')
        self.check_schedules(runner)
        self.check_unused_parameters(runner, model)
        if self.teacher == 'probe_best':
            self._probe = self.find_probe(runner)
        expected = self.expected_round(runner.iter)
        if runner.iter > 0 and model.distill_round != expected:
            raise RuntimeError(
                f'Resumed at iteration {runner.iter}, which is in round '
                f'{expected} of switch points {self.switch_iters}, but the '
                f'checkpoint holds a model in round {model.distill_round}: '
                'it comes from a run with other switch points; resume with '
                'the switch_iter and rounds it was trained with.')
        if runner.iter > 0 and model.teacher_checkpoint is not None:
            # Resuming a run that skipped stage 1: it drew a batch for each
            # iteration from the first switch on only.
            replay_without(runner, self.switch_iter)
        # A teacher checkpoint skips stage 1 (before_train_iter jumps).
        start = self.switch_iter if model.distill_enabled and \
            runner.iter == 0 else runner.iter
        bounds = [0] + self.switch_iters + [runner.max_iters]
        plan = ', '.join(
            f'[{a}, {b}) ' +
            ('further pre-train' if k == 0 else f'self-distill round {k}')
            for k, (a, b) in enumerate(zip(bounds, bounds[1:])))
        print_log(
            f'Self-distillation run: {plan}; starting in round '
            f'{model.distill_round} at iteration {start}.',
            logger='current')

    def find_probe(self, runner):
        """The probe hook that chooses the teacher; refuse a run without
        one that measures :attr:`probe_metric`."""
        name = type(self).__name__
        probes = [
            hook for hook in runner.hooks
            if type(hook).__name__ == 'RepresentationProbeHook'
        ]
        found = [p for p in probes if p.prefix == self.probe_prefix]
        if not found:
            has = f'prefixes {[p.prefix for p in probes]}' if probes \
                else 'none'
            raise ValueError(
                f"{name}: teacher='probe_best' needs a "
                f"RepresentationProbeHook with prefix='{self.probe_prefix}' "
                f'in custom_hooks; the run has {has}.')
        probe = found[0]
        loader = self.PROBE_METRICS[self.probe_metric]
        linear = self.probe_metric == 'linear_top1'
        if probe.loader_cfgs.get(loader) is None or (linear and
                                                     not probe.linear_probe):
            needs = f'{loader}_dataloader' + (' and linear_probe=True'
                                              if linear else '')
            raise ValueError(
                f"{name}: the probe '{self.probe_prefix}' does not measure "
                f'{self.probe_metric}: give it {needs}, or choose another '
                'probe_metric.')
        return probe

    def keep_best(self, runner, model, start: bool = False) -> None:
        """Copy the student's encoder if the probe was best at this step
        (the probe of step ``runner.iter`` ran after the last iteration), or
        at the ``start`` of a round (the probe may find no better step)."""
        current = model.distill_round
        if not start:
            latest = self._probe.latest or {}
            best = self._probe.best.get(self.probe_metric) or {}
            probed_now = latest.get('step') == runner.iter and latest.get(
                'round') == current
            if not probed_now or best.get('step') != runner.iter:
                return
        self.best = dict(
            round=current,
            step=runner.iter,
            state={
                k: v.detach().to('cpu', copy=True)
                for k, v in model.student_encoder.state_dict().items()
            })

    def round_start(self, distill_round: int) -> int:
        """The first iteration of a round (0 for further pre-training)."""
        return ([0] + self.switch_iters)[distill_round]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.best is not None:
            checkpoint['self_distill_stage'] = dict(best=self.best)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.teacher == 'probe_best':
            self.best = checkpoint.get('self_distill_stage', {}).get('best')

    def probe_teacher(self, runner) -> Dict[str, torch.Tensor]:
        """The encoder of the current round's best probe; a clear error if
        the probe measured nothing in the round or its best step was not
        kept."""
        model = self._model(runner)
        current = model.distill_round
        best = self._probe.best.get(self.probe_metric)
        kept = self.best
        if best is None or kept is None or kept['round'] != current or \
                kept['step'] != best['step']:
            if best is None:
                why = ('the probe measured none in the round; make its '
                       "interval divide the round's length")
            else:
                why = (f'it was best at step {best["step"]}, the hook kept '
                       f'step {kept and kept["step"]} (a checkpoint without '
                       'the kept encoder?)')
            raise RuntimeError(
                f"{type(self).__name__}: teacher='probe_best', but the "
                f"encoder where the probe '{self.probe_prefix}' was best on "
                f'{self.probe_metric} in round {current} (iterations '
                f'[{self.round_start(current)}, {runner.iter})) was not '
                f"kept: {why}, or use teacher='last'.")
        print_log(
            f'Iteration {runner.iter}: the teacher is the encoder of '
            f'iteration {best["step"]}, where {self.probe_metric} was best '
            f'({best["value"]:.4f}).',
            logger='current')
        return kept['state']

    def check_unused_parameters(self, runner, model) -> None:
        """Refuse a distributed run that cannot skip the modules the model
        leaves untrained while it distils."""
        unused = model.unused_in_distill()
        if not unused or get_world_size() == 1:
            return
        if getattr(runner.model, 'find_unused_parameters', True):
            return
        raise ValueError(
            f'{type(self).__name__}: {type(model).__name__} trains no '
            f'parameters of {unused} while it distils (its loss weight is '
            '0), which DistributedDataParallel refuses: set '
            "model_wrapper_cfg=dict(type='MMDistributedDataParallel', "
            'find_unused_parameters=True) in the config.')

    def check_schedules(self, runner) -> None:
        """Refuse parameter schedules whose stages do not change at every
        switch point.

        Every round restarts the learning rate at its switch point; a
        schedule still running there (e.g. ``switch_iter`` moved without
        the schedules) goes on from its position in the previous stage, and
        a decay to 0 then trains the next round at a learning rate of 0.
        """
        schedulers = param_schedulers(runner)
        if not schedulers:
            return
        problem = switch_problem(schedulers, self.switch_iters)
        if problem is None:
            return
        spans = schedule_spans(schedulers)
        hooks = [h.get('type') for h in runner.cfg.get('custom_hooks', [])]
        index = hooks.index(type(self).__name__) \
            if type(self).__name__ in hooks else 0
        switches = (f'switch_iter={self.switch_iter} does' if self.rounds == 1
                    else f'switch points {self.switch_iters} do')
        raise ValueError(
            f'SelfDistillStageHook: {switches} not fit the parameter '
            f'schedules: {problem}. Schedules (in iterations): {spans}; '
            f'max_iters={runner.max_iters}. Each stage\'s schedules must end '
            'at its switch point and the next stage\'s begin there, counted '
            f'in iterations: set custom_hooks.{index}.switch_iter (and '
            'rounds) and the end of the last schedule of each stage and the '
            'begin of the first schedule of the next (e.g. '
            'param_scheduler.0.end, param_scheduler.1.begin) to the same '
            'iteration, and train_cfg.max_iters to the end of the last '
            'round.')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Switch rounds (or skip stage 1) at the right iterations."""
        model = self._model(runner)
        if runner.iter == 0 and model.distill_enabled:
            print_log(
                'The model has a teacher checkpoint: skipping stage 1, '
                f'starting self-distillation at iteration {self.switch_iter}.',
                logger='current')
            skip_to(runner, self.switch_iter)
            restart_optimizer(runner, self.switch_iter)
            if self.teacher == 'probe_best':
                self.keep_best(runner, model, start=True)
            return
        probe_best = self.teacher == 'probe_best'
        if probe_best:
            self.keep_best(runner, model, start=runner.iter == 0)
        if runner.iter in self.switch_iters and \
                model.distill_round == self.switch_iters.index(runner.iter):
            model.start_distill(
                self.probe_teacher(runner) if probe_best else None)
            if probe_best:
                self.keep_best(runner, model, start=True)
            restart_optimizer(runner, runner.iter)
            print_log(
                f'Iteration {runner.iter}: round {model.distill_round - 1} '
                'done. Its encoder is now the frozen teacher of round '
                f'{model.distill_round}; the student restarted from ' +
                (f'{model.initial_weights}.'
                 if model.restart_from == 'initial' else 'the teacher.'),
                logger='current')
