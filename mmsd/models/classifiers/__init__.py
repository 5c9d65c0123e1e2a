# Copyright (c) mmsd contributors. All rights reserved.
from .pretrained_classifier import PretrainedImageClassifier

__all__ = ['PretrainedImageClassifier']
