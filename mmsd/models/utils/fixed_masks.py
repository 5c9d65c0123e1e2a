# Copyright (c) mmsd contributors. All rights reserved.
"""MAE masks from given noise, e.g. the same mask for an image at every
evaluation, independent of the global random state."""
from contextlib import contextmanager
from typing import Iterator, Tuple

import torch
from torch import nn


def masking_from_noise(
        x: torch.Tensor, noise: torch.Tensor,
        mask_ratio: float) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """MAE's random masking (``MAEViT.random_masking``) with given noise:
    the patches with the smallest noise are kept."""
    batch, length, dims = x.shape
    len_keep = int(length * (1 - mask_ratio))
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    x_masked = torch.gather(
        x, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, dims))
    mask = torch.ones([batch, length], device=x.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, dim=1, index=ids_restore)
    return x_masked, mask, ids_restore


@contextmanager
def fixed_masks(encoder: nn.Module, noise: torch.Tensor) -> Iterator[None]:
    """Make an ``MAEViT``'s masked forward use ``noise`` (one row per
    sample) instead of fresh random noise."""

    def random_masking(x, mask_ratio=0.75):
        return masking_from_noise(x, noise.to(x.device), mask_ratio)

    encoder.random_masking = random_masking
    try:
        yield
    finally:
        del encoder.random_masking
