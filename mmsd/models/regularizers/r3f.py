# Copyright (c) mmsd contributors. All rights reserved.
from typing import Any, Dict, Optional

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import nn

from ..utils import check_non_negative
from .base import BaseFinetuneRegularizer


def symmetric_kl(logits_p: torch.Tensor,
                 logits_q: torch.Tensor) -> torch.Tensor:
    """``KL(p‖q) + KL(q‖p)`` of the softmax distributions, summed over
    classes and averaged over the batch (as fairseq's R3F), in float32.
    Both inputs are differentiated."""
    log_p = F.log_softmax(logits_p.float(), dim=-1)
    log_q = F.log_softmax(logits_q.float(), dim=-1)
    kl_pq = F.kl_div(log_q, log_p, reduction='batchmean', log_target=True)
    kl_qp = F.kl_div(log_p, log_q, reduction='batchmean', log_target=True)
    return kl_pq + kl_qp


@MODELS.register_module()
class R3FRegularizer(BaseFinetuneRegularizer):
    """R3F: consistency of the predictions under embedding noise.

    Implementation of `Better Fine-Tuning by Reducing Representational
    Collapse <https://arxiv.org/abs/2008.03156>`_:
    ``loss_r3f = λ · (KL(p‖q) + KL(q‖p))`` where ``p`` is the classifier's
    prediction on the clean batch and ``q`` its prediction with noise added
    to the output of the input-embedding module (the patch embeddings of a
    ViT, the token embeddings of a text model). The noise is added by a
    forward hook that exists only during the noised pass, and only when the
    module is in training mode. The classifier provides
    ``forward_logits(inputs)``.

    Args:
        embedding (str): Dotted name of the embedding module, resolved with
            ``model.get_submodule``: ``'backbone.patch_embed'`` (MMPretrain
            ViT) or e.g. ``'hf_model.roberta.embeddings.word_embeddings'``.
            If the module returns a tuple (MMPretrain's ``PatchEmbed``
            returns ``(tokens, size)``), its first item is perturbed.
            Defaults to 'backbone.patch_embed'.
        noise_type (str): ``'normal'`` (N(0, σ²)) or ``'uniform'``
            (U(−σ, σ)). Defaults to 'normal'.
        sigma (float): σ. Defaults to 1e-5 (the paper's).
        loss_weight (float): λ. Defaults to 1.0.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """
    NOISE_TYPES = ('normal', 'uniform')

    def __init__(self,
                 embedding: str = 'backbone.patch_embed',
                 noise_type: str = 'normal',
                 sigma: float = 1e-5,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if noise_type not in self.NOISE_TYPES:
            raise ValueError(f'R3FRegularizer: noise_type={noise_type!r} is '
                             f'not one of {self.NOISE_TYPES}.')
        check_non_negative(
            'R3FRegularizer', sigma=sigma, loss_weight=loss_weight)
        self.embedding = embedding
        self.noise_type = noise_type
        self.sigma = sigma
        self.loss_weight = loss_weight

    def setup(self, model: nn.Module) -> None:
        try:
            model.get_submodule(self.embedding)
        except AttributeError as err:
            raise ValueError(
                f'R3FRegularizer: embedding={self.embedding!r} is not a '
                f'submodule of {type(model).__name__} ({err}).') from None
        if not hasattr(model, 'forward_logits'):
            raise TypeError(f'R3FRegularizer: {type(model).__name__} has no '
                            'forward_logits(inputs) method.')

    def noise_like(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.noise_type == 'normal':
            return torch.randn_like(tensor) * self.sigma
        return (torch.rand_like(tensor) * 2 - 1) * self.sigma

    def _perturb(self, module: nn.Module, args: Any, output: Any) -> Any:
        if not module.training:
            return output
        if isinstance(output, torch.Tensor):
            return output + self.noise_like(output)
        if isinstance(output,
                      (tuple, list)) and isinstance(output[0], torch.Tensor):
            return type(output)(
                [output[0] + self.noise_like(output[0]), *output[1:]])
        raise TypeError(f'R3FRegularizer: {self.embedding!r} returned '
                        f'{type(output).__name__}, not a tensor or a tuple '
                        'starting with one.')

    def noised_logits(self, model: nn.Module, inputs: Any) -> torch.Tensor:
        """The classifier's logits with noise on the embeddings."""
        module = model.get_submodule(self.embedding)
        handle = module.register_forward_hook(self._perturb)
        try:
            return model.forward_logits(inputs)
        finally:
            handle.remove()

    def forward(self, model: nn.Module, inputs: Any,
                logits: torch.Tensor) -> Dict[str, torch.Tensor]:
        noised = self.noised_logits(model, inputs)
        return dict(loss_r3f=self.loss_weight * symmetric_kl(logits, noised))
