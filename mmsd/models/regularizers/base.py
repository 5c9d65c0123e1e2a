# Copyright (c) mmsd contributors. All rights reserved.
from typing import Any, Dict

import torch
from mmengine.model import BaseModule
from torch import nn


class BaseFinetuneRegularizer(BaseModule):
    """A fine-tuning regulariser that adds a loss term to a classifier.

    Used through :class:`mmsd.models.FinetuneRegularizerMixin`: the
    classifier calls :meth:`setup` once after it built its layers, then
    :meth:`forward` in every ``loss()`` call. The classifier is passed in,
    never stored, so that it is not registered as a submodule of its own
    regulariser.
    """

    def setup(self, model: nn.Module) -> None:
        """Check the configuration against ``model``; create state that
        must be in every checkpoint (buffers)."""

    def forward(self, model: nn.Module, inputs: Any,
                logits: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Return the loss terms, keys containing ``loss``.

        Args:
            model (nn.Module): The classifier (unwrapped).
            inputs (Any): The batch the classifier got (a tensor of images,
                or a dict of tensors for a text model).
            logits (Tensor): The classifier's logits on ``inputs``.
        """
        raise NotImplementedError
