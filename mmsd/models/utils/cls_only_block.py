# Copyright (c) mmsd contributors. All rights reserved.
"""Run a ViT's last block for the class token only.

When only the final class token of an unmasked pass is used (the
distillation target of self-distillation), the last block needs attention
for one query and the MLP for one row; keys and values still come from all
tokens, so the result is exact. This saves about ``(L - 1) / L`` of the last
block's attention-output and MLP work for ``L`` tokens.
"""
from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn.functional as F
from mmpretrain.models.backbones.vision_transformer import \
    TransformerEncoderLayer
from mmpretrain.models.utils import MultiheadAttention
from torch import nn


def cls_attention(attn: MultiheadAttention, x: torch.Tensor) -> torch.Tensor:
    """``attn(x)[:, :1]``, computing the first query only."""
    if attn.v_shortcut:
        raise ValueError('cls_attention does not support v_shortcut.')
    batch, num_tokens, _ = x.shape
    dims = attn.embed_dims
    weight, bias = attn.qkv.weight, attn.qkv.bias
    q = F.linear(x[:, :1], weight[:dims],
                 None if bias is None else bias[:dims])
    kv = F.linear(x, weight[dims:], None if bias is None else bias[dims:])
    q = q.reshape(batch, 1, attn.num_heads, attn.head_dims).transpose(1, 2)
    kv = kv.reshape(batch, num_tokens, 2, attn.num_heads,
                    attn.head_dims).permute(2, 0, 3, 1, 4)
    dropout = attn.attn_drop if attn.training else 0.
    out = attn.scaled_dot_product_attention(q, kv[0], kv[1], dropout_p=dropout)
    out = attn.proj(out.transpose(1, 2).reshape(batch, 1, dims))
    return attn.out_drop(attn.gamma1(attn.proj_drop(out)))


class ClsOnlyLayer(nn.Module):
    """Wraps a ``TransformerEncoderLayer``; returns its class-token row
    ``(B, 1, C)`` only. Holds no parameters of its own."""

    def __init__(self, layer: TransformerEncoderLayer) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layer = self.layer
        cls_token = x[:, :1] + cls_attention(layer.attn, layer.ln1(x))
        return layer.ffn(layer.ln2(cls_token), identity=cls_token)


@contextmanager
def cls_only_last_layer(vit: nn.Module) -> Iterator[None]:
    """Within the context, ``vit``'s last layer outputs the class token
    only, so an unmasked ``vit(x)`` with ``out_type='raw'`` returns
    ``(B, 1, C)``."""
    last = vit.layers[-1]
    if not isinstance(last, TransformerEncoderLayer):
        raise TypeError('cls_only_last_layer needs an MMPretrain '
                        f'TransformerEncoderLayer, got {type(last).__name__}')
    vit.layers[-1] = ClsOnlyLayer(last)
    try:
        yield
    finally:
        vit.layers[-1] = last
