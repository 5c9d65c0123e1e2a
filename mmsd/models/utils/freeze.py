# Copyright (c) mmsd contributors. All rights reserved.
from torch import nn


def freeze(module: nn.Module) -> nn.Module:
    """Stop gradients to ``module`` and put it in eval mode."""
    for param in module.parameters():
        param.requires_grad_(False)
    module.eval()
    return module
