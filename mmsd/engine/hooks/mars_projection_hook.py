# Copyright (c) mmsd contributors. All rights reserved.
import fnmatch
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model
from torch import nn

from mmsd.models.utils import split_new_parameters


def max_abs_row_sum(matrix: torch.Tensor) -> torch.Tensor:
    """‖W‖∞: the largest absolute row sum of ``W`` seen as
    ``(W.shape[0], -1)`` (a conv kernel: one row per output channel)."""
    return matrix.detach().flatten(1).abs().sum(1).max()


@torch.no_grad()
def project_to_ball(weight: torch.Tensor, anchor: torch.Tensor,
                    radius: float) -> None:
    """In place, ``W ← W₀ + (W − W₀) / max(1, ‖W − W₀‖∞ / γ)``."""
    delta = weight - anchor
    scale = max_abs_row_sum(delta) / radius
    if scale > 1:
        weight.copy_(anchor + delta / scale)


@HOOKS.register_module()
class MARSProjectionHook(Hook):
    """Keep every pre-trained layer in a ball around its start weights.

    Implementation of the MARS-PGM variant of `Distance-Based
    Regularisation of Deep Networks for Fine-Tuning
    <https://arxiv.org/abs/2002.08253>`_: after each training iteration
    (after the optimizer step), every pre-trained layer weight ``W`` (a
    parameter named ``*.weight`` with at least two dimensions: linear,
    convolution and embedding weights) is projected back into the ball of
    radius γ around its start ``W₀`` under the maximum absolute row sum
    norm, ``W ← W₀ + (W − W₀) / max(1, ‖W − W₀‖∞ / γ)``. Biases, norms and
    tokens are not constrained, nor are the new parameters.

    W₀ is captured in ``before_train`` (after the runner loaded the
    pre-trained weights), saved in every checkpoint under
    ``'mars_anchor'`` and restored from it on resume (or ``load_from`` a
    checkpoint of a MARS run).

    Args:
        radius (float | dict): γ for every layer, or a dict mapping
            ``fnmatch`` patterns of parameter names to radii (first match
            wins; layers matching no pattern are left free), e.g.
            ``{'backbone.patch_embed.*': 2.0, 'backbone.*': 1.0}``.
        new_prefixes (Sequence[str]): Name prefixes of the new parameters,
            never constrained. Defaults to ``('head.',)``.
    """
    priority = 'ABOVE_NORMAL'  # before CheckpointHook saves the weights
    CHECKPOINT_KEY = 'mars_anchor'

    def __init__(
        self,
        radius: Union[float, Dict[str, float]],
        new_prefixes: Sequence[str] = ('head.', )
    ) -> None:
        patterns = radius if isinstance(radius, dict) else {'*': radius}
        for pattern, value in patterns.items():
            if not value > 0:
                raise ValueError(f'MARSProjectionHook: radius of {pattern!r} '
                                 f'must be > 0, got {value}.')
        self.radius = dict(patterns)
        self.new_prefixes = tuple(new_prefixes)
        self.layers: List[Tuple[str, nn.Parameter, float]] = []
        self.anchor: Optional[Dict[str, torch.Tensor]] = None

    def select_layers(
            self, model: nn.Module) -> List[Tuple[str, nn.Parameter, float]]:
        """``(name, weight, radius)`` of every constrained layer."""
        pretrained, _ = split_new_parameters(model, self.new_prefixes)
        used = set()
        layers = []
        for name, param in pretrained.items():
            if not (name.endswith('.weight') and param.dim() >= 2):
                continue
            for pattern, radius in self.radius.items():
                if fnmatch.fnmatchcase(name, pattern):
                    layers.append((name, param, radius))
                    used.add(pattern)
                    break
        unused = [p for p in self.radius if p not in used]
        if unused:
            raise ValueError(f'MARSProjectionHook: radius patterns {unused} '
                             'match no pre-trained layer weight.')
        return layers

    def before_train(self, runner) -> None:
        self.layers = self.select_layers(get_ori_model(runner.model))
        if self.anchor is None:
            self.anchor = {
                name: param.detach().clone()
                for name, param, _ in self.layers
            }
        else:
            missing = {name for name, *_ in self.layers} - set(self.anchor)
            if missing:
                raise KeyError(f'MARSProjectionHook: the checkpoint\'s '
                               f'{self.CHECKPOINT_KEY!r} lacks '
                               f'{sorted(missing)[:5]}.')
            self.anchor = {
                name: self.anchor[name].to(param)
                for name, param, _ in self.layers
            }

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        for name, param, radius in self.layers:
            project_to_ball(param.data, self.anchor[name], radius)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.anchor is not None:
            checkpoint[self.CHECKPOINT_KEY] = self.anchor

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.CHECKPOINT_KEY in checkpoint:
            self.anchor = checkpoint[self.CHECKPOINT_KEY]
