# Copyright (c) mmsd contributors. All rights reserved.
from .dropout_linear_head import DropoutLinearClsHead
from .regression_head import RegressionHead
from .self_distill_head import SelfDistillHead

__all__ = ['DropoutLinearClsHead', 'RegressionHead', 'SelfDistillHead']
