# Copyright (c) mmsd contributors. All rights reserved.
from .intermediate_layer_distill import IntermediateLayerDistill
from .masked_lm import HFMaskedLM
from .prediction_layer_distill import PredictionLayerDistill
from .self_distill_mlm import SelfDistillMLM
from .sequence_classifier import HFSequenceClassifier
from .text_data_preprocessor import TextDataPreprocessor

__all__ = [
    'HFMaskedLM', 'HFSequenceClassifier', 'IntermediateLayerDistill',
    'PredictionLayerDistill', 'SelfDistillMLM', 'TextDataPreprocessor'
]
