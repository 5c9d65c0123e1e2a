# Copyright (c) mmsd contributors. All rights reserved.
import logging
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ..utils import check_non_negative


@MODELS.register_module()
class SelfDistillHead(BaseModule):
    """Distillation loss between student and teacher token features.

    Implementation of the distillation term of `Self-Distillation for Further
    Pre-training of Transformers <https://arxiv.org/abs/2210.02871>`_. Both
    inputs are the final-norm token sequences ``(B, L, C)`` whose first
    ``num_extra_tokens`` entries are the class token(s).

    Args:
        representation (str): What is distilled: ``'cls_token'`` (the first
            token, as in the paper), ``'mean_patch'`` (mean of the patch
            tokens) or ``'all_tokens'``. Defaults to 'cls_token'.
        criterion (str): ``'sse'``: squared error summed over features (and
            tokens), mean over the batch, as in the official code; ``'mse'``:
            mean over all elements; ``'cosine'``: ``1 - cos`` over features,
            mean over tokens and batch. Defaults to 'sse'.
        loss_weight (float): Weight of the loss (λ). Defaults to 1.0.
        num_extra_tokens (int): Number of class tokens before the patch
            tokens. Defaults to 1.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """
    REPRESENTATIONS = ('cls_token', 'mean_patch', 'all_tokens')
    CRITERIA = ('sse', 'mse', 'cosine')

    def __init__(self,
                 representation: str = 'cls_token',
                 criterion: str = 'sse',
                 loss_weight: float = 1.0,
                 num_extra_tokens: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if representation not in self.REPRESENTATIONS:
            raise ValueError(f'SelfDistillHead: representation='
                             f'{representation!r} is not one of '
                             f'{self.REPRESENTATIONS}.')
        if criterion not in self.CRITERIA:
            raise ValueError(f'SelfDistillHead: criterion={criterion!r} is '
                             f'not one of {self.CRITERIA}.')
        check_non_negative('SelfDistillHead', loss_weight=loss_weight)
        if loss_weight == 0:
            print_log(
                'SelfDistillHead: loss_weight=0 turns distillation off; '
                'stage 2 is then plain further pre-training from the '
                'initial weights.',
                logger='current',
                level=logging.WARNING)
        self.representation = representation
        self.criterion = criterion
        self.loss_weight = float(loss_weight)
        self.num_extra_tokens = num_extra_tokens

    def select(self,
               tokens: torch.Tensor,
               mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Pick the distilled representation from ``(B, L, C)`` tokens.

        Returns ``(B, C)`` for ``cls_token``/``mean_patch`` and ``(B, L, C)``
        for ``all_tokens``. ``mask`` ``(B, L)`` marks the real tokens of
        padded sequences (text); the mean then skips the padding.
        """
        if self.representation == 'cls_token':
            return tokens[:, 0]
        if self.representation == 'mean_patch':
            tokens = tokens[:, self.num_extra_tokens:]
            if mask is None:
                return tokens.mean(dim=1)
            weights = mask[:, self.num_extra_tokens:, None].to(tokens.dtype)
            return (tokens * weights).sum(1) / weights.sum(1).clamp(min=1)
        return tokens

    def loss(self,
             student: torch.Tensor,
             teacher: torch.Tensor,
             mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Weighted distillation loss; the teacher is never differentiated.

        Args:
            student (Tensor): Student tokens ``(B, L, C)``.
            teacher (Tensor): Teacher tokens ``(B, L, C)``, or the already
                selected teacher representation.
            mask (Tensor, optional): ``(B, L)``, 1 for real tokens and 0 for
                padding, which then adds nothing to the loss.
                Defaults to None.
        """
        student = self.select(student, mask)
        if teacher.dim() != student.dim():
            teacher = self.select(teacher, mask)
        teacher = teacher.detach().to(student.dtype)
        if self.criterion == 'cosine':
            error = 1 - F.cosine_similarity(student, teacher, dim=-1)
        elif self.criterion == 'sse':
            error = (student - teacher).pow(2).sum(-1)
        else:
            error = (student - teacher).pow(2).mean(-1)
        if error.dim() == 1:  # one vector per sample
            return self.loss_weight * error.mean()
        # all_tokens: sse sums over tokens, mse and cosine average them.
        weights = (
            torch.ones_like(error) if mask is None else mask.to(error.dtype))
        total = (error * weights).sum()
        count = len(error) if self.criterion == 'sse' else weights.sum()
        return self.loss_weight * total / count
