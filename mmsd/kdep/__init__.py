# Copyright (c) mmsd contributors. All rights reserved.
"""KDEP, knowledge distillation as efficient pre-training (He et al., CVPR
2022): the algorithm, its loss head, the pre-activation pooled features,
the SVD basis that aligns the teacher to the student, the pass that
computes it and the hook that runs that pass before training.

Importing ``mmsd`` registers ``KDEP``, ``PTSFeatureDistillHead`` and
``SVDBasisHook``; configs use them by name.
"""
from .basis_pass import (basis_dataloader_cfg, build_basis_dataloader,
                         collect_teacher_features, compute_basis_file)
from .kdep import KDEP
from .pooled_feature import capture_last_input, feature_dim, pooled_feature
from .pts_head import PTSFeatureDistillHead
from .svd_basis import SVDBasis
from .svd_basis_hook import SVDBasisHook

__all__ = [
    'KDEP', 'PTSFeatureDistillHead', 'SVDBasis', 'SVDBasisHook',
    'basis_dataloader_cfg', 'build_basis_dataloader', 'capture_last_input',
    'collect_teacher_features', 'compute_basis_file', 'feature_dim',
    'pooled_feature'
]
