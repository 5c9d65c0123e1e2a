# Copyright (c) mmsd contributors. All rights reserved.
from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks
from .optimizers import RecAdam, anneal_lambda
from .svd_basis import (basis_dataloader_cfg, build_basis_dataloader,
                        collect_teacher_features, compute_basis_file)

__all__ = _hooks + [
    'RecAdam', 'anneal_lambda', 'basis_dataloader_cfg',
    'build_basis_dataloader', 'collect_teacher_features', 'compute_basis_file'
]
