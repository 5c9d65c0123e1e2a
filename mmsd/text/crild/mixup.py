# Copyright (c) mmsd contributors. All rights reserved.
"""Embedding-level mixup of CR-ILD: each sample mixed with its partner in
the reversed batch."""
from typing import Tuple, Union

import torch

Features = Union[torch.Tensor, Tuple[torch.Tensor, ...]]


def mixup_lambda(batch_size: int, alpha: float) -> torch.Tensor:
    """Per-sample λ ~ Beta(α, α), folded to λ = max(λ, 1 - λ) >= 0.5, so
    each mixed sample stays closer to its own input. Uses torch's global
    generator (seeded and restored on resume by MMEngine and mmsd)."""
    lam = torch.distributions.Beta(alpha, alpha).sample((batch_size, ))
    return torch.maximum(lam, 1 - lam)


def mix_with_reversed(x: Features, lam: torch.Tensor) -> Features:
    """``λ_i x_i + (1 - λ_i) x_{B-1-i}``: each sample mixed with its partner
    in the reversed batch; ``x`` is ``(B, ...)``, or a tuple of such
    tensors, each mixed."""
    if isinstance(x, tuple):
        return tuple(mix_with_reversed(part, lam) for part in x)
    lam = lam.to(x.dtype).view(-1, *([1] * (x.dim() - 1)))
    return lam * x + (1 - lam) * x.flip(0)


def union_mask(mask: torch.Tensor) -> torch.Tensor:
    """Attention mask of mixed pairs: a position is real in either text."""
    return torch.maximum(mask, mask.flip(0))
