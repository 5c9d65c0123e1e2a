# Copyright (c) mmsd contributors. All rights reserved.
from .determinism import nondeterministic_reason
from .idx_image_dataset import (DIGIT_CLASSES, FASHION_MNIST_CLASSES,
                                IdxImageDataset)

__all__ = [
    'DIGIT_CLASSES', 'FASHION_MNIST_CLASSES', 'IdxImageDataset',
    'nondeterministic_reason'
]
