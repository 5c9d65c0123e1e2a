# Copyright (c) mmsd contributors. All rights reserved.
from .matthews_correlation import MatthewsCorrelation
from .pearson_spearman import PearsonSpearman

__all__ = ['MatthewsCorrelation', 'PearsonSpearman']
