# Copyright (c) mmsd contributors. All rights reserved.
from .further_pretrain_mae import FurtherPretrainMAE
from .self_distill_mae import SelfDistillMAE

__all__ = ['FurtherPretrainMAE', 'SelfDistillMAE']
