# Copyright (c) mmsd contributors. All rights reserved.
from typing import List, Optional

from mmengine.dist import all_gather_object, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmpretrain.utils import get_ori_model
from torch import nn


def model_with(runner, attribute: str, hook: Hook, example: str) -> nn.Module:
    """The runner's model, outside any DDP wrapper, if it has ``attribute``.

    Args:
        runner (Runner): The runner.
        attribute (str): A method or attribute the hook needs.
        hook (Hook): The hook asking, named in the error.
        example (str): A model class that has ``attribute``, for the error.

    Raises:
        TypeError: If the model has no ``attribute``.
    """
    model = get_ori_model(runner.model)
    if not hasattr(model, attribute):
        raise TypeError(f'{type(hook).__name__} needs a model with '
                        f'{attribute!r} (e.g. {example}), got '
                        f'{type(model).__name__}.')
    return model


def checkpoint_due(runner, by_epoch: bool = False) -> bool:
    """Whether a ``CheckpointHook`` of the runner saves a checkpoint when the
    current iteration (or, with ``by_epoch``, epoch) ends.

    Only rank 0 writes checkpoints, so what the other ranks must put in
    them is gathered beforehand, from an ``after_train_iter`` (or
    ``after_train_epoch``) of a hook that runs before ``CheckpointHook``;
    every rank evaluates the same condition, as ``CheckpointHook`` does.
    """
    for hook in runner.hooks:
        if not isinstance(hook, CheckpointHook) or hook.by_epoch != by_epoch:
            continue
        if by_epoch:
            every = hook.every_n_epochs(runner, hook.interval, hook.save_begin)
            last = hook.is_last_train_epoch(runner)
        else:
            every = hook.every_n_train_iters(runner, hook.interval,
                                             hook.save_begin)
            last = hook.is_last_train_iter(runner)
        if every or (hook.save_last and last):
            return True
    return False


class RankStateMixin:
    """For a hook whose state differs between processes and must travel in
    checkpoints: when a checkpoint follows the current iteration (or epoch),
    every rank's :meth:`rank_state` is gathered, because only rank 0 writes
    the checkpoint; :meth:`pop_rank_states` hands them to
    ``before_save_checkpoint``. Single-process runs gather nothing.

    Give the hook a priority above ``CheckpointHook``'s (``VERY_LOW``).
    """
    _rank_states: Optional[List[object]] = None

    def rank_state(self, runner) -> Optional[object]:
        """This process's state, or None for nothing to gather (the same
        answer on every rank)."""
        raise NotImplementedError

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        self._gather(runner, by_epoch=False)

    def after_train_epoch(self, runner) -> None:
        self._gather(runner, by_epoch=True)

    def _gather(self, runner, by_epoch: bool) -> None:
        if get_world_size() > 1 and checkpoint_due(runner, by_epoch):
            state = self.rank_state(runner)
            if state is not None:
                self._rank_states = all_gather_object(state)

    def pop_rank_states(self) -> Optional[List[object]]:
        """Every rank's state, if gathered for this checkpoint, once."""
        states, self._rank_states = self._rank_states, None
        return states
