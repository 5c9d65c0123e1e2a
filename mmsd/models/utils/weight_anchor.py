# Copyright (c) mmsd contributors. All rights reserved.
from typing import Dict, Iterator, Sequence, Tuple

import torch
from torch import nn


def split_new_parameters(
    model: nn.Module, new_prefixes: Sequence[str]
) -> Tuple[Dict[str, nn.Parameter], Dict[str, nn.Parameter]]:
    """Split ``model``'s parameters into pre-trained and new ones.

    Args:
        model (nn.Module): The fine-tuned model.
        new_prefixes (Sequence[str]): Name prefixes of the parameters that
            the fine-tune adds (not pre-trained), e.g. ``['head.']`` for a
            ViT classifier or ``['hf_model.classifier.']`` for a
            transformers sequence classifier.

    Returns:
        tuple[dict, dict]: ``(pretrained, new)``, each ``{name: param}``.

    Raises:
        ValueError: If a prefix matches no parameter (a typo would silently
            treat the head as pre-trained).
    """
    prefixes = tuple(new_prefixes)
    pretrained, new = {}, {}
    for name, param in model.named_parameters():
        (new if name.startswith(prefixes) else pretrained)[name] = param
    for prefix in prefixes:
        if not any(name.startswith(prefix) for name in new):
            raise ValueError(
                f'new_prefixes: {prefix!r} matches no parameter of '
                f'{type(model).__name__}; names start with e.g. '
                f'{sorted({n.split(".")[0] + "." for n in pretrained})}.')
    return pretrained, new


class WeightAnchor(nn.Module):
    """The weights a fine-tune started from (w₀), kept as buffers.

    The buffers exist from construction on, so they are part of every
    checkpoint and a resumed run reloads w₀ instead of taking the resumed
    weights. They are filled by :meth:`capture_once` the first time the
    regularised loss is computed: at that point the runner has run the
    initializers and loaded the pre-trained weights (or a ``load_from``
    checkpoint without an anchor), and no optimizer step has been taken.
    ``Runner.train`` builds the optimizer before it loads the weights, so
    an earlier capture would take the random initial weights.

    Args:
        params (dict[str, Tensor]): The parameters to anchor, by name.
    """

    def __init__(self, params: Dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.names = list(params)
        for name, param in params.items():
            self.register_buffer(
                self._key(name), torch.zeros_like(param, requires_grad=False))
        self.register_buffer('captured', torch.tensor(False))

    @staticmethod
    def _key(name: str) -> str:
        # Buffer names may not contain dots.
        return name.replace('.', '/')

    def __getitem__(self, name: str) -> torch.Tensor:
        return getattr(self, self._key(name))

    def items(self) -> Iterator[Tuple[str, torch.Tensor]]:
        for name in self.names:
            yield name, self[name]

    @torch.no_grad()
    def capture(self, model: nn.Module) -> None:
        """Copy the current weights of ``model`` into the anchor."""
        params = dict(model.named_parameters())
        for name, anchor in self.items():
            anchor.copy_(params[name].detach())
        self.captured.fill_(True)

    def capture_once(self, model: nn.Module) -> None:
        """Capture unless w₀ was captured (or loaded from a checkpoint)."""
        if not bool(self.captured):
            self.capture(model)
