# Copyright (c) mmsd contributors. All rights reserved.
from mmengine.hooks import Hook
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
