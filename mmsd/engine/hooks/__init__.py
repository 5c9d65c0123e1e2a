# Copyright (c) mmsd contributors. All rights reserved.
from .export_backbone_hook import ExportBackboneHook
from .finite_loss_hook import FiniteLossHook
from .mars_projection_hook import MARSProjectionHook
from .random_state_hook import RandomStateHook
from .self_distill_stage_hook import SelfDistillStageHook
from .svd_basis_hook import SVDBasisHook
from .teacher_cache_hook import TeacherCacheHook

__all__ = [
    'ExportBackboneHook', 'FiniteLossHook', 'MARSProjectionHook',
    'RandomStateHook', 'SelfDistillStageHook', 'SVDBasisHook',
    'TeacherCacheHook'
]
