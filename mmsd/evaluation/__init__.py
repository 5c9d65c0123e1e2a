# Copyright (c) mmsd contributors. All rights reserved.
from .matthews_correlation import MatthewsCorrelation

__all__ = ['MatthewsCorrelation']
