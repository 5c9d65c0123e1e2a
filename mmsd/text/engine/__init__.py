# Copyright (c) mmsd contributors. All rights reserved.
from .save_pretrained_hook import SavePretrainedHook

__all__ = ['SavePretrainedHook']
