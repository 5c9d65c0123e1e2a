# Copyright (c) mmsd contributors. All rights reserved.
from .pack_text_inputs import PackTextInputs
from .text_dataset import TextDataset, read_text_records

__all__ = ['PackTextInputs', 'TextDataset', 'read_text_records']
