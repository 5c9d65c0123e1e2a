# Copyright (c) mmsd contributors. All rights reserved.
"""The query, key and value self-relations of MiniLMv2, recorded from a
transformer layer during the ordinary forward pass."""
from contextlib import contextmanager
from typing import Dict, Iterator

import torch
from torch import nn

QKV = ('query', 'key', 'value')


@contextmanager
def recorded_qkv(layer: nn.Module) -> Iterator[Dict[str, torch.Tensor]]:
    """Record the query, key and value projections of one transformer
    layer (BERT/RoBERTa-style ``attention.self.{query,key,value}``).

    Yields:
        dict: ``'query'``, ``'key'`` and ``'value'`` outputs ``(B, L, C)``,
        once the layer ran.
    """
    outputs = {}
    handles = []
    for name in QKV:
        module = layer.get_submodule(f'attention.self.{name}')
        handles.append(
            module.register_forward_hook(
                lambda _, __, out, name=name: outputs.__setitem__(name, out)))
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


def self_relations(x: torch.Tensor, mask: torch.Tensor,
                   num_heads: int) -> torch.Tensor:
    """MiniLMv2 self-attention relations of queries, keys or values.

    ``x`` ``(B, L, C)`` is split into ``num_heads`` relation heads; the
    relation is ``softmax(x x^T / sqrt(C / heads))`` over real key positions:
    ``(B, heads, L, L)``.
    """
    batch, length, channels = x.shape
    if channels % num_heads:
        raise ValueError(f'{channels} features do not split into '
                         f'{num_heads} relation heads.')
    x = x.view(batch, length, num_heads, -1).transpose(1, 2)
    scores = x @ x.transpose(-1, -2) / x.shape[-1]**0.5
    scores = scores.masked_fill(mask[:, None, None, :] == 0,
                                torch.finfo(scores.dtype).min)
    return scores.softmax(-1)
