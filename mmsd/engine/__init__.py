# Copyright (c) mmsd contributors. All rights reserved.
from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks
from .optimizers import (RecAdam, SummarizedOptimWrapperConstructor,
                         anneal_lambda)
from .runners import MultiSplitValLoop

__all__ = _hooks + [
    'MultiSplitValLoop', 'RecAdam', 'SummarizedOptimWrapperConstructor',
    'anneal_lambda'
]
