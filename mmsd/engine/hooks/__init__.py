# Copyright (c) mmsd contributors. All rights reserved.
from .data_check_hook import DataCheckHook
from .export_backbone_hook import ExportBackboneHook
from .finite_loss_hook import FiniteLossHook
from .init_distance_hook import InitDistanceHook
from .mars_projection_hook import MARSProjectionHook
from .random_state_hook import RandomStateHook
from .representation_probe_hook import RepresentationProbeHook
from .self_distill_stage_hook import SelfDistillStageHook
from .strict_load_hook import StrictLoadHook
from .teacher_cache_hook import TeacherCacheHook

__all__ = [
    'DataCheckHook', 'ExportBackboneHook', 'FiniteLossHook',
    'InitDistanceHook', 'MARSProjectionHook', 'RandomStateHook',
    'RepresentationProbeHook', 'SelfDistillStageHook', 'StrictLoadHook',
    'TeacherCacheHook'
]
