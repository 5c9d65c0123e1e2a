# Copyright (c) mmsd contributors. All rights reserved.
from .check_values import check_non_negative
from .checked_load import (CheckpointMismatchError, check_state_dict,
                           load_checked)
from .cls_only_block import ClsOnlyLayer, cls_attention, cls_only_last_layer
from .recompute import RecomputedLayer, recomputed_layers
from .weight_anchor import WeightAnchor, split_new_parameters

__all__ = [
    'CheckpointMismatchError', 'ClsOnlyLayer', 'RecomputedLayer',
    'WeightAnchor', 'check_non_negative', 'check_state_dict',
    'cls_attention', 'cls_only_last_layer', 'load_checked',
    'recomputed_layers', 'split_new_parameters'
]
