# Copyright (c) mmsd contributors. All rights reserved.
"""The teacher of distillation algorithms: frozen, loaded checked, and, for
self-distillation, the protocol that makes the student its teacher and the
cache of its features."""
from .cache import TeacherFeatureCache
from .digests import modular_digests, module_fingerprint, sample_digests
from .frozen import FrozenTeacherMixin, build_backbone, freeze
from .self_distill import SelfDistillMixin

__all__ = [
    'FrozenTeacherMixin', 'SelfDistillMixin', 'TeacherFeatureCache',
    'build_backbone', 'freeze', 'modular_digests', 'module_fingerprint',
    'sample_digests'
]
