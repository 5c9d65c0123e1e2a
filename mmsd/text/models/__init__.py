# Copyright (c) mmsd contributors. All rights reserved.
from .masked_lm import HFMaskedLM
from .self_distill_mlm import SelfDistillMLM
from .sequence_classifier import HFSequenceClassifier
from .text_data_preprocessor import TextDataPreprocessor

__all__ = [
    'HFMaskedLM', 'HFSequenceClassifier', 'SelfDistillMLM',
    'TextDataPreprocessor'
]
