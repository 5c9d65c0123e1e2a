# Copyright (c) mmsd contributors. All rights reserved.
"""Recompute some layers of a ViT in the backward pass (activation
checkpointing) instead of keeping their activations."""
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


class RecomputedLayer(nn.Module):
    """Wraps a layer; keeps only its input for the backward pass, where the
    layer's forward runs again (with the same random state). Holds no
    parameters of its own."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled():
            return self.layer(x)
        return checkpoint(self.layer, x, use_reentrant=False)


@contextmanager
def recomputed_layers(vit: nn.Module, num_layers: int) -> Iterator[None]:
    """Within the context, the first ``num_layers`` layers of ``vit`` are
    recomputed in the backward pass: same outputs and gradients, less
    memory, one more forward of those layers."""
    if not 0 <= num_layers <= len(vit.layers):
        raise ValueError(f'recomputed_layers: num_layers={num_layers} is not '
                         f'in [0, {len(vit.layers)}].')
    originals = [vit.layers[i] for i in range(num_layers)]
    for i, layer in enumerate(originals):
        vit.layers[i] = RecomputedLayer(layer)
    try:
        yield
    finally:
        for i, layer in enumerate(originals):
            vit.layers[i] = layer
