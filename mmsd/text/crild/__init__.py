# Copyright (c) mmsd contributors. All rights reserved.
"""CR-ILD, consistency-regularised intermediate-layer distillation (Ko et
al., EACL 2023): stage A (``intermediate_layer_distill.py``; its objectives
as a table in ``objectives.py``, the q/k/v relations in ``relations.py``,
the mixup in ``mixup.py`` and the consistency term in ``consistency.py``)
and stage B (``prediction_layer_distill.py``).

Importing ``mmsd.text`` registers ``IntermediateLayerDistill`` and
``PredictionLayerDistill``; configs use them by name.
"""
from .intermediate_layer_distill import IntermediateLayerDistill
from .mixup import mix_with_reversed, mixup_lambda, union_mask
from .objectives import (OBJECTIVES, Objective, attention_kl, hidden_mse,
                         relation_kl)
from .prediction_layer_distill import (PredictionLayerDistill,
                                       soft_cross_entropy)
from .relations import recorded_qkv, self_relations

__all__ = [
    'IntermediateLayerDistill', 'OBJECTIVES', 'Objective',
    'PredictionLayerDistill', 'attention_kl', 'hidden_mse',
    'mix_with_reversed', 'mixup_lambda', 'recorded_qkv', 'relation_kl',
    'self_relations', 'soft_cross_entropy', 'union_mask'
]
