# Copyright (c) mmsd contributors. All rights reserved.
"""Losses and mixup of intermediate-layer distillation (CR-ILD, TinyBERT,
MiniLMv2): every function takes the batch's attention mask ``(B, L)`` and
ignores padded positions."""

import torch
import torch.nn.functional as F

EPS = 1e-12


def mixup_lambda(batch_size: int, alpha: float) -> torch.Tensor:
    """Per-sample λ ~ Beta(α, α), folded to λ = max(λ, 1 - λ) >= 0.5, so
    each mixed sample stays closer to its own input. Uses torch's global
    generator (seeded and restored on resume by MMEngine and mmsd)."""
    lam = torch.distributions.Beta(alpha, alpha).sample((batch_size, ))
    return torch.maximum(lam, 1 - lam)


def mix_with_reversed(x: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """``λ_i x_i + (1 - λ_i) x_{B-1-i}``: each sample mixed with its partner
    in the reversed batch; ``x`` is ``(B, ...)``."""
    lam = lam.to(x.dtype).view(-1, *([1] * (x.dim() - 1)))
    return lam * x + (1 - lam) * x.flip(0)


def union_mask(mask: torch.Tensor) -> torch.Tensor:
    """Attention mask of mixed pairs: a position is real in either text."""
    return torch.maximum(mask, mask.flip(0))


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


def soft_cross_entropy(student_logits: torch.Tensor,
                       teacher_logits: torch.Tensor,
                       temperature: float) -> torch.Tensor:
    """Hinton's distillation loss: cross-entropy between the softened
    teacher and student distributions, times T² (batch mean)."""
    log_student = F.log_softmax(student_logits / temperature, dim=-1)
    teacher = F.softmax(teacher_logits / temperature, dim=-1)
    return -(teacher * log_student).sum(-1).mean() * temperature**2
