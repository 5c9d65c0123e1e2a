# Copyright (c) mmsd contributors. All rights reserved.
"""The consistency term of CR-ILD: the mixed-input student must match the
interpolation of its own clean-input features, with a linearly ramped
weight and, optionally, an EMA of the student giving the targets."""
from typing import Dict, Sequence, Union

import torch
from mmengine.logging import MessageHub
from torch import nn

from .mixup import mix_with_reversed
from .objectives import objective_loss


def consistency_loss(objectives: Sequence[str], student: Dict[str, list],
                     clean: Dict[str, list], lam: torch.Tensor,
                     mixed_mask: torch.Tensor) -> torch.Tensor:
    """Sum over ``objectives`` of the loss between the mixed-input student
    features and ``λ·clean_i + (1-λ)·clean_rev(i)``."""
    total = 0
    for name in objectives:
        targets = [mix_with_reversed(x, lam) for x in clean[name]]
        total = total + objective_loss(name, student[name], targets,
                                       mixed_mask)
    return total


def check_ramp_iters(ramp_iters: Union[int, str]) -> None:
    """Refuse a ramp length that is neither an iteration count nor
    ``'all'``."""
    if ramp_iters != 'all' and (isinstance(ramp_iters, bool)
                                or not isinstance(ramp_iters, int)
                                or ramp_iters < 0):
        raise ValueError(f'consistency.ramp_iters={ramp_iters!r}: use a '
                         "number of iterations >= 0 (0: no ramp) or 'all'.")


def ramped_weight(weight: float, ramp_iters: Union[int, str]) -> float:
    """``weight``, ramped up linearly over the first ``ramp_iters``
    training iterations; ``'all'`` ramps over the whole run (the runner's
    ``max_iters``), as the paper's weight x epoch / epochs does."""
    check_ramp_iters(ramp_iters)
    hub = MessageHub.get_current_instance()
    if ramp_iters == 'all':
        ramp_iters = hub.get_info('max_iters')
        if not ramp_iters:
            raise RuntimeError(
                "consistency.ramp_iters='all' ramps over the run's "
                'max_iters, which only a training runner sets; give a '
                'number of iterations instead.')
    if not ramp_iters:
        return weight
    iteration = hub.get_info('iter', 0)
    return weight * min(1.0, (iteration + 1) / ramp_iters)


@torch.no_grad()
def update_ema(ema: nn.Module, student: nn.Module, momentum: float) -> None:
    """``ema ← momentum·ema + (1 - momentum)·student`` for every floating
    tensor of the state dicts (parameters and buffers).

    Not MMEngine's ``ExponentialMovingAverage``: its first update copies the
    student instead of averaging, its ``lerp`` rounds differently and it
    renames the state dict keys (``test_crild.py`` pins the difference).
    """
    for average, value in zip(ema.state_dict().values(),
                              student.state_dict().values()):
        if average.dtype.is_floating_point:
            average.mul_(momentum).add_(value, alpha=1 - momentum)
