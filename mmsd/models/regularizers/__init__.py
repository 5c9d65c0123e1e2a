# Copyright (c) mmsd contributors. All rights reserved.
from .base import BaseFinetuneRegularizer
from .l2sp import L2SPRegularizer
from .r3f import R3FRegularizer, symmetric_kl

__all__ = [
    'BaseFinetuneRegularizer', 'L2SPRegularizer', 'R3FRegularizer',
    'symmetric_kl'
]
