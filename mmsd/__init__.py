# Copyright (c) mmsd contributors. All rights reserved.
"""mmsd: self-distillation for further pre-training, an MMPretrain plugin.

Importing ``mmsd`` registers its models and hooks into MMPretrain's
registries; a config only needs
``custom_imports = dict(imports=['mmsd'], allow_failed_imports=False)``.
"""
import warnings

# Two known-harmless warnings of the pinned stack (README, "Installation"),
# ignored by their exact text so that any other warning still shows:
# mmcv-lite has no compiled ops (mmsd needs none), and mmengine 0.10.7
# resolves 'mmpretrain::' config bases through pkg_resources.
warnings.filterwarnings('ignore',
                        r'Fail to import ``MultiScaleDeformableAttention``',
                        UserWarning)
warnings.filterwarnings('ignore', r'pkg_resources is deprecated as an API',
                        UserWarning)

from .utils import allow_mmengine_checkpoints  # noqa: E402
from .utils import register_checkpoint_loader  # noqa: E402
from .version import __version__  # noqa: E402

allow_mmengine_checkpoints()
register_checkpoint_loader()

from . import datasets, engine, evaluation, kdep, models  # noqa: E402,F401

__all__ = ['__version__']
