# Copyright (c) mmsd contributors. All rights reserved.
from mmengine.model import is_model_wrapper
from torch import nn


def get_ori_model(model: nn.Module) -> nn.Module:
    """Return the model inside a DDP/FSDP wrapper, or the model itself."""
    return model.module if is_model_wrapper(model) else model
