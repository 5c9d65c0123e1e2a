# Copyright (c) mmsd contributors. All rights reserved.
"""The objectives of intermediate-layer distillation (CR-ILD, TinyBERT,
MiniLMv2), as a table: what each compares in a layer and its loss. Every
loss takes the batch's attention mask ``(B, L)`` and ignores padded
positions."""
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, NamedTuple, Optional

import torch
from torch import nn

from .relations import QKV, recorded_qkv, self_relations

EPS = 1e-12


def _mean_over_queries(per_query: torch.Tensor,
                       mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``(B, H, L)`` values over real query positions."""
    weights = mask[:, None, :].to(per_query.dtype).expand_as(per_query)
    return (per_query * weights).sum() / weights.sum().clamp(min=1)


def attention_kl(student: torch.Tensor, teacher: torch.Tensor,
                 mask: torch.Tensor) -> torch.Tensor:
    """KL(teacher ‖ student) of attention distributions ``(B, H, L, L)``
    (rows sum to 1), averaged over heads and real query positions."""
    if student.shape != teacher.shape:
        raise ValueError('Attention maps of student and teacher differ in '
                         f'shape: {tuple(student.shape)} vs '
                         f'{tuple(teacher.shape)} (number of heads?).')
    kl = teacher * (
        teacher.clamp(min=EPS).log() - student.clamp(min=EPS).log())
    return _mean_over_queries(kl.sum(-1), mask)


def hidden_mse(student: torch.Tensor, teacher: torch.Tensor,
               mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error of hidden states ``(B, L, C)`` over real tokens
    and features."""
    weights = mask[..., None].to(student.dtype)
    error = (student - teacher).pow(2) * weights
    return error.sum() / (weights.sum() * student.shape[-1]).clamp(min=1)


def relation_kl(student: tuple, teacher: tuple,
                mask: torch.Tensor) -> torch.Tensor:
    """Mean over query, key and value of :func:`attention_kl` between the
    (query, key, value) self-relations of student and teacher."""
    return sum(attention_kl(s, t, mask) for s, t in zip(student, teacher)) / 3


class Objective(NamedTuple):
    """One objective of intermediate-layer distillation.

    Attributes:
        select (Callable): ``(outputs, layer) -> feature``: the compared
            feature of a layer (1-based; 0 is the embeddings) in the encoder
            outputs, which also carry ``relations``, the recorded
            (query, key, value) self-relations per layer.
        loss (Callable): ``(student, target, mask) -> loss`` of one pair.
        output (str, optional): The encoder output it needs
            (``'attentions'`` or ``'hidden_states'``); None for the relations.
        with_embeddings (bool): A layer-to-layer map also pairs the
            embeddings (layer 0).
    """
    select: Callable[[Any, int], Any]
    loss: Callable[[Any, Any, torch.Tensor], torch.Tensor]
    output: Optional[str]
    with_embeddings: bool = False


OBJECTIVES = {
    # KL between the attention maps.
    'attention':
    Objective(lambda out, i: out.attentions[i - 1], attention_kl,
              'attentions'),
    # MSE between hidden states (the student's through a learned map).
    'hidden':
    Objective(
        lambda out, i: out.hidden_states[i],
        hidden_mse,
        'hidden_states',
        with_embeddings=True),
    # KL between the query, key and value self-relations (MiniLMv2).
    'qkv':
    Objective(lambda out, i: out.relations[i], relation_kl, None),
}


def layer_features(encoder: nn.Module, layers: Dict[str, List[int]],
                   attention_mask: torch.Tensor, relation_heads: int,
                   **inputs) -> Dict[str, list]:
    """Per objective, the compared features of the listed layers, from one
    pass of ``encoder`` (a BERT/RoBERTa-style transformers encoder).

    Args:
        encoder (nn.Module): The encoder.
        layers (dict[str, list[int]]): Objective name to its layers.
        attention_mask (Tensor): ``(B, L)``.
        relation_heads (int): Heads of the ``'qkv'`` relations.
        **inputs: ``input_ids`` or ``inputs_embeds``.
    """
    outputs = {OBJECTIVES[name].output for name in layers}
    relation_layers = layers.get('qkv', [])
    with ExitStack() as stack:
        recorders = {
            i: stack.enter_context(recorded_qkv(encoder.encoder.layer[i - 1]))
            for i in relation_layers
        }
        out = encoder(
            attention_mask=attention_mask,
            output_attentions='attentions' in outputs,
            output_hidden_states='hidden_states' in outputs,
            **inputs)
    out = SimpleNamespace(
        attentions=out.attentions,
        hidden_states=out.hidden_states,
        relations={
            i:
            tuple(
                self_relations(recorders[i][name], attention_mask,
                               relation_heads) for name in QKV)
            for i in relation_layers
        })
    return {
        name: [OBJECTIVES[name].select(out, i) for i in layer_list]
        for name, layer_list in layers.items()
    }


def objective_loss(name: str, student: list, target: list,
                   mask: torch.Tensor) -> torch.Tensor:
    """Mean over layer pairs of objective ``name``'s loss."""
    losses = [
        OBJECTIVES[name].loss(s, t, mask) for s, t in zip(student, target)
    ]
    return sum(losses) / len(losses)
