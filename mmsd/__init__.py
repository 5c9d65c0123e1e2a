# Copyright (c) mmsd contributors. All rights reserved.
"""mmsd: self-distillation for further pre-training, an MMPretrain plugin.

Importing ``mmsd`` registers its models and hooks into MMPretrain's
registries; a config only needs
``custom_imports = dict(imports=['mmsd'], allow_failed_imports=False)``.
"""
from .utils import allow_mmengine_checkpoints, register_checkpoint_loader
from .version import __version__

allow_mmengine_checkpoints()
register_checkpoint_loader()

from . import datasets, engine, evaluation, kdep, models  # noqa: E402,F401

__all__ = ['__version__']
