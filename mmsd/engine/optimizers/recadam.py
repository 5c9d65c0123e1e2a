# Copyright (c) mmsd contributors. All rights reserved.
import math
from typing import Iterable, Tuple

import torch
from mmpretrain.registry import OPTIMIZERS
from torch.optim import Optimizer


def anneal_lambda(step: int,
                  function: str = 'sigmoid',
                  k: float = 0.5,
                  t0: float = 250,
                  weight: float = 1.0) -> float:
    """RecAdam's annealing coefficient λ(t) at optimizer step ``step``.

    ``'sigmoid'``: ``weight / (1 + exp(-k (t - t0)))``; ``'linear'``:
    ``weight · min(1, t / t0)``; ``'constant'``: ``weight``.
    """
    if function == 'sigmoid':
        # Written to avoid overflowing exp() far from t0.
        z = k * (step - t0)
        if z >= 0:
            return weight / (1 + math.exp(-z))
        return weight * math.exp(z) / (1 + math.exp(z))
    if function == 'linear':
        return weight * min(1.0, step / t0)
    if function == 'constant':
        return weight
    raise ValueError(f'RecAdam: anneal_fun={function!r} is not one of '
                     "('sigmoid', 'linear', 'constant').")


@OPTIMIZERS.register_module()
class RecAdam(Optimizer):
    """AdamW with an annealed, decoupled pull towards the start weights.

    Implementation of `Recall and Learn: Fine-tuning Deep Pretrained
    Language Models with Less Forgetting <https://arxiv.org/abs/2004.12651>`_
    (the optimizer of the authors' code). The objective is
    ``λ(t)·L_task + (1 − λ(t))·γ/2·‖θ − θ₀‖²`` with the annealing
    coefficient λ(t) = sigmoid(k(t − t₀)) (times ``anneal_w``). For a
    parameter of a group with ``anneal_w > 0`` one step is

    1. decoupled weight decay ``θ ← θ·(1 − lr·wd)`` (as ``torch.optim.AdamW``);
    2. the Adam update of the task gradient, scaled by λ(t):
       ``θ ← θ − λ(t)·lr·m̂/(√v̂ + ε)``;
    3. the decoupled quadratic pull:
       ``θ ← θ − lr·(anneal_w − λ(t))·γ·(θ − θ₀)``.

    Groups with ``anneal_w = 0`` (the new head: set it through MMEngine's
    ``paramwise_cfg.custom_keys``, e.g. ``{'head.': dict(anneal_w=0.)}``)
    take plain AdamW steps, so with ``anneal_w = 0`` everywhere RecAdam is
    ``torch.optim.AdamW``. θ₀ is each parameter's value at its first step,
    i.e. the fine-tune's start (the runner loads the pre-trained weights
    after it built the optimizer); it lives in the optimizer state
    (``state[p]['anchor']``), so resuming keeps it. t counts this
    parameter's steps from 1.

    Args:
        params (Iterable): Parameters or parameter groups.
        lr (float): Learning rate. Defaults to 1e-3.
        betas (tuple[float, float]): Adam's betas. Defaults to (0.9, 0.999).
        eps (float): Adam's epsilon. Defaults to 1e-8.
        weight_decay (float): Decoupled weight decay. Defaults to 0.
        anneal_fun (str): ``'sigmoid'``, ``'linear'`` or ``'constant'``.
            Defaults to 'sigmoid'.
        anneal_k (float): k, slope of the sigmoid. Defaults to 0.5.
        anneal_t0 (float): t₀, the step where λ = anneal_w / 2. Defaults to
            250.
        anneal_w (float): Upper value of λ; 0 turns the pull off for a
            group. Defaults to 1.0.
        pretrain_cof (float): γ, strength of the quadratic pull. Defaults to
            5000 (the authors' value for BERT at lr 2e-5).
    """

    def __init__(self,
                 params: Iterable,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8,
                 weight_decay: float = 0.0,
                 anneal_fun: str = 'sigmoid',
                 anneal_k: float = 0.5,
                 anneal_t0: float = 250,
                 anneal_w: float = 1.0,
                 pretrain_cof: float = 5000.0) -> None:
        for key, value in dict(
                lr=lr,
                eps=eps,
                weight_decay=weight_decay,
                anneal_w=anneal_w,
                pretrain_cof=pretrain_cof).items():
            if value < 0:
                raise ValueError(f'RecAdam: {key} must be >= 0, got {value}.')
        if not all(0.0 <= beta < 1.0 for beta in betas):
            raise ValueError(f'RecAdam: betas must be in [0, 1), got {betas}.')
        anneal_lambda(1, anneal_fun, anneal_k, anneal_t0, anneal_w)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            anneal_fun=anneal_fun,
            anneal_k=anneal_k,
            anneal_t0=anneal_t0,
            anneal_w=anneal_w,
            pretrain_cof=pretrain_cof)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Take one optimisation step."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            lr = group['lr']
            for p in group['params']:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError('RecAdam does not support sparse '
                                       'gradients.')
                state = self.state[p]
                if not state:
                    state['step'] = 0
                    state['exp_avg'] = torch.zeros_like(p)
                    state['exp_avg_sq'] = torch.zeros_like(p)
                    if group['anneal_w'] > 0:
                        state['anchor'] = p.detach().clone()
                state['step'] += 1
                step = state['step']
                exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
                grad = p.grad
                p.mul_(1 - lr * group['weight_decay'])
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(
                    group['eps'])
                step_size = lr / bias_correction1
                if group['anneal_w'] > 0:
                    lam = anneal_lambda(step, group['anneal_fun'],
                                        group['anneal_k'], group['anneal_t0'],
                                        group['anneal_w'])
                    p.addcdiv_(exp_avg, denom, value=-step_size * lam)
                    p.add_(
                        p - state['anchor'],
                        alpha=-lr * (group['anneal_w'] - lam) *
                        group['pretrain_cof'])
                else:
                    p.addcdiv_(exp_avg, denom, value=-step_size)
        return loss
