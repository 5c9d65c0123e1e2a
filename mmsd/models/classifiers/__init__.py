# Copyright (c) mmsd contributors. All rights reserved.
from .finetune_regularizer import FinetuneRegularizerMixin
from .pretrained_classifier import PretrainedImageClassifier

__all__ = ['FinetuneRegularizerMixin', 'PretrainedImageClassifier']
