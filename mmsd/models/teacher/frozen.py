# Copyright (c) mmsd contributors. All rights reserved.
import copy
from typing import Union

from mmpretrain.registry import MODELS
from torch import nn

from ..utils import load_checked


def freeze(module: nn.Module) -> nn.Module:
    """Stop gradients to ``module`` and put it in eval mode."""
    for param in module.parameters():
        param.requires_grad_(False)
    module.eval()
    return module


def build_backbone(cfg: Union[dict, nn.Module]) -> nn.Module:
    """Build a module from a (copied) config; pass modules through."""
    if isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(copy.deepcopy(cfg))


class FrozenTeacherMixin:
    """A frozen ``teacher`` for distillation algorithms.

    The teacher gets no gradients, is loaded with every key and shape
    checked (:func:`load_checked`) and stays in eval mode when the algorithm
    is put in train mode. Put the mixin before the model class:
    ``class Algo(FrozenTeacherMixin, BaseModel)``.
    """
    teacher: nn.Module

    def build_teacher(self, teacher: Union[dict, nn.Module]) -> nn.Module:
        """Build ``self.teacher`` from a config (copied) and freeze it."""
        self.teacher = freeze(build_backbone(teacher))
        return self.teacher

    def load_teacher(self, filename: str, prefix: str = 'backbone.') -> None:
        """Load the teacher's weights (keys under ``prefix``), checked."""
        load_checked(self.teacher, filename, prefix, what='teacher')

    def train(self, mode: bool = True):
        """Set train mode on the student; the teacher stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self
