# Copyright (c) mmsd contributors. All rights reserved.
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
