# Copyright (c) mmsd contributors. All rights reserved.
"""The teacher of distillation algorithms: frozen, loaded checked, and, for
self-distillation, the protocol that makes the student its teacher."""
from .frozen import FrozenTeacherMixin, build_backbone, freeze
from .self_distill import SelfDistillMixin

__all__ = [
    'FrozenTeacherMixin', 'SelfDistillMixin', 'build_backbone', 'freeze'
]
