# Copyright (c) mmsd contributors. All rights reserved.
from .check_values import check_non_negative
from .checked_load import (CheckpointMismatchError, check_state_dict,
                           load_checked)
from .cls_only_block import ClsOnlyLayer, cls_attention, cls_only_last_layer
from .pooled_feature import feature_dim, pooled_feature
from .recompute import RecomputedLayer, recomputed_layers
from .svd_basis import (compute_svd_basis, load_svd_basis, project,
                        save_svd_basis)
from .weight_anchor import WeightAnchor, split_new_parameters

__all__ = [
    'CheckpointMismatchError', 'ClsOnlyLayer', 'RecomputedLayer',
    'check_non_negative', 'check_state_dict', 'cls_attention',
    'cls_only_last_layer', 'compute_svd_basis', 'feature_dim', 'load_checked',
    'load_svd_basis', 'pooled_feature', 'project', 'recomputed_layers',
    'save_svd_basis',
    'split_new_parameters', 'WeightAnchor'
]
