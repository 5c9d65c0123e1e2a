# Copyright (c) mmsd contributors. All rights reserved.
"""The text branch of mmsd, on transformers.

The only part of mmsd that imports ``transformers``. Text configs import it
with ``custom_imports = dict(imports=['mmsd', 'mmsd.text'])``.
"""
from . import crild, datasets, engine, models  # noqa: F401
from .hf_loading import build_hf_model, load_tokenizer

__all__ = ['build_hf_model', 'load_tokenizer']
