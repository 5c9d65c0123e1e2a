# Copyright (c) mmsd contributors. All rights reserved.
from .further_pretrain_mae import FurtherPretrainMAE
from .kdep import KDEP
from .self_distill_mae import SelfDistillMAE

__all__ = ['FurtherPretrainMAE', 'KDEP', 'SelfDistillMAE']
