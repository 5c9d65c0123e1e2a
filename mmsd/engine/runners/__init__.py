# Copyright (c) mmsd contributors. All rights reserved.
from .multi_split_val_loop import MultiSplitValLoop

__all__ = ['MultiSplitValLoop']
