# Copyright (c) mmsd contributors. All rights reserved.
from .recadam import RecAdam, anneal_lambda
from .summarized_constructor import SummarizedOptimWrapperConstructor

__all__ = ['RecAdam', 'SummarizedOptimWrapperConstructor', 'anneal_lambda']
