# Copyright (c) mmsd contributors. All rights reserved.
from collections import OrderedDict
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS
from torch import nn

from ..utils import model_with


def block_of(name: str) -> str:
    """The block a parameter belongs to: the path up to the first layer
    index (``layers.3``, ``encoder.layer.3``), else its first part
    (``patch_embed``, ``cls_token``)."""
    parts = name.split('.')
    for i, part in enumerate(parts[:-1]):
        if part.isdigit():
            return '.'.join(parts[:i + 1])
    return parts[0]


@HOOKS.register_module()
class InitDistanceHook(Hook):
    """Log how far the student's encoder is from its initial weights,
    ``‖θ − θ_init‖``, in total and per block, during every stage.

    Made for `Self-Distillation for Further Pre-training of Transformers
    <https://arxiv.org/abs/2210.02871>`_, whose analysis says that
    self-distillation keeps the student closer to the initial weights than
    further pre-training does, and repeated self-distillation closer still.
    ``θ_init`` is the model's :meth:`initial_encoder_state` (the encoder of
    ``init_checkpoint`` or of ``model_name_or_path``), read again when a
    resumed run starts, so the curve goes on exactly; nothing is saved in
    checkpoints. The sums are taken in float64 over every parameter of the
    student's encoder (``model.student_encoder``).

    Scalars, through the runner's visualizer (``scalars.json``,
    TensorBoard, ...) at ``step`` = iterations done, at the start of a
    fresh run, every ``interval`` iterations and after the last one:
    ``{prefix}/total`` and, with ``per_block``, ``{prefix}/{block}`` for
    every block (:func:`block_of`: ``patch_embed``, ``layers.0``, ...).
    When a self-distillation round starts, ``{prefix}/teacher`` is the
    distance of its teacher (the encoder the previous round ended with).

    Args:
        interval (int): Log every this many iterations. Defaults to 50.
        per_block (bool): Also log every block. Defaults to True.
        prefix (str): Scalar name prefix. Defaults to 'dist_init'.
    """
    # After SelfDistillStageHook (HIGHEST) in before_train_iter.
    priority = 'NORMAL'

    def __init__(self,
                 interval: int = 50,
                 per_block: bool = True,
                 prefix: str = 'dist_init') -> None:
        if interval < 1:
            raise ValueError(
                f'InitDistanceHook: interval must be >= 1, got {interval}.')
        self.interval = interval
        self.per_block = per_block
        self.prefix = prefix
        self.initial: Dict[str, torch.Tensor] = {}
        self.latest: Optional[Dict[str, float]] = None
        self._round = 0
        self._log_start = False

    def _model(self, runner):
        return model_with(runner, 'initial_encoder_state', self,
                          'FurtherPretrainMAE')

    def before_train(self, runner) -> None:
        """Read the encoder's initial weights and check they fit it."""
        model = self._model(runner)
        state = model.initial_encoder_state()
        name = type(model).__name__
        if state is None:
            raise ValueError(
                f'InitDistanceHook: {name} has no initial weights to measure '
                'the distance from; set model.init_checkpoint (or '
                'model.model_name_or_path), or remove the hook.')
        encoder = model.student_encoder
        params = dict(encoder.named_parameters())
        missing = sorted(set(params) - set(state))
        mismatched = sorted(
            k for k in set(params) & set(state)
            if state[k].shape != params[k].shape)
        if missing or mismatched:
            raise ValueError(
                f'InitDistanceHook: the initial weights of {name} do not fit '
                f'its encoder: missing {missing[:5]}, other shapes '
                f'{mismatched[:5]}.')
        self.initial = {
            key: state[key].to(param.device, param.dtype)
            for key, param in params.items()
        }
        self._round = getattr(model, 'distill_round', 0)
        self._log_start = runner.iter == 0

    def distances(self, encoder: nn.Module) -> Dict[str, float]:
        """``total`` and, with ``per_block``, every block's distance of
        ``encoder`` from the initial weights."""
        squares: Dict[str, torch.Tensor] = OrderedDict()
        with torch.no_grad():
            for key, param in encoder.named_parameters():
                value = (param.detach().double() -
                         self.initial[key].double()).pow(2).sum()
                block = block_of(key)
                squares[block] = squares.get(block, 0) + value
        total = sum(squares.values())
        result = dict(total=float(torch.as_tensor(total).sqrt()))
        if self.per_block:
            result.update((block, float(value.sqrt()))
                          for block, value in squares.items())
        return result

    def _log(self, runner, values: Dict[str, float], step: int) -> None:
        runner.visualizer.add_scalars(
            {
                f'{self.prefix}/{key}': value
                for key, value in values.items()
            },
            step=step)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Log the start of a fresh run, and a new round's teacher."""
        model = self._model(runner)
        if self._log_start:
            self._log_start = False
            self.latest = self.distances(model.student_encoder)
            self._log(runner, self.latest, runner.iter)
        current = getattr(model, 'distill_round', 0)
        if current > self._round:
            self._round = current
            teacher = self.distances(model.teacher)['total']
            self._log(runner, dict(teacher=teacher), runner.iter)
            print_log(
                f'Iteration {runner.iter}: the teacher of round {current} is '
                f'{teacher:.4f} from the initial weights.',
                logger='current')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        step = runner.iter + 1
        if step % self.interval == 0 or step == runner.max_iters:
            self.latest = self.distances(self._model(runner).student_encoder)
            self._log(runner, self.latest, step)

    def after_train(self, runner) -> None:
        if self.latest is not None:
            print_log(
                'Distance of the encoder from its initial weights: '
                f'{self.latest["total"]:.4f}.',
                logger='current')
