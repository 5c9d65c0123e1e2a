# Copyright (c) mmsd contributors. All rights reserved.
from typing import Any, Dict, Optional, Sequence, Union

import torch
from mmpretrain.registry import MODELS
from torch import nn

from ..regularizers import BaseFinetuneRegularizer


class FinetuneRegularizerMixin:
    """Adds the loss terms of fine-tuning regularisers to a classifier.

    The baselines of `Self-Distillation for Further Pre-training of
    Transformers <https://arxiv.org/abs/2210.02871>`_ that add a loss term
    (L2-SP, R3F; see :mod:`mmsd.models.regularizers`) are listed in the
    classifier's ``regularizers`` config. A classifier using the mixin

    - calls :meth:`init_regularizers` at the end of ``__init__``;
    - implements :meth:`forward_logits` (logits of a batch);
    - in ``loss()``, computes the logits once, its task loss from them,
      and adds :meth:`regularizer_losses`.

    With no regularisers, ``loss()`` should be the plain classifier's.
    """

    def init_regularizers(
        self,
        regularizers: Optional[Sequence[Union[dict,
                                              nn.Module]]] = None) -> None:
        """Build the regularisers (configs or modules) as the submodule
        list ``self.regularizers`` and set them up on this model."""
        built = []
        for index, cfg in enumerate(regularizers or []):
            regularizer = MODELS.build(cfg) if isinstance(cfg, dict) else cfg
            if not isinstance(regularizer, BaseFinetuneRegularizer):
                raise TypeError(f'regularizers[{index}] is a '
                                f'{type(regularizer).__name__}, not a '
                                'BaseFinetuneRegularizer.')
            regularizer.setup(self)
            built.append(regularizer)
        self.regularizers = nn.ModuleList(built)

    def forward_logits(self, inputs: Any) -> torch.Tensor:
        """Logits of the batch ``inputs`` (used by R3F)."""
        raise NotImplementedError

    def regularizer_losses(self, inputs: Any,
                           logits: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The loss dicts of all regularisers, merged."""
        losses: Dict[str, torch.Tensor] = {}
        for regularizer in self.regularizers:
            for key, value in regularizer(self, inputs, logits).items():
                if key in losses:
                    raise KeyError(f'Two regularizers return {key!r}.')
                losses[key] = value
        return losses
