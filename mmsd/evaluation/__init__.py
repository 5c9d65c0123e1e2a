# Copyright (c) mmsd contributors. All rights reserved.
from .feature_probes import knn_predict, linear_probe_predict
from .matthews_correlation import MatthewsCorrelation
from .pearson_spearman import PearsonSpearman

__all__ = [
    'MatthewsCorrelation', 'PearsonSpearman', 'knn_predict',
    'linear_probe_predict'
]
