# Copyright (c) mmsd contributors. All rights reserved.
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

from mmsd.engine.utils import model_with
from .basis_pass import build_basis_dataloader, compute_basis_file


@HOOKS.register_module()
class SVDBasisHook(Hook):
    """Compute the SVD basis of a KDEP teacher before training, if missing.

    Implements the offline alignment step of `Knowledge Distillation as
    Efficient Pre-training <https://arxiv.org/abs/2203.05180>`_ inside the
    training run. If ``model.basis_file`` exists it is only read and
    checked; otherwise every process passes its shard of the images through
    the teacher, rank 0 computes the basis and writes the file, and all
    processes read it, exactly as ``tools/compute_svd_basis.py`` does (both
    call :func:`mmsd.kdep.compute_basis_file`).

    The images are those of ``svd_basis_dataloader`` in the config, else of
    ``train_dataloader``, read in order.

    Args:
        max_samples (int, optional): Use only the first images of the
            dataset. Defaults to None (all).
        batch_size (int, optional): Batch size of the pass. Defaults to
            None (the dataloader's).
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 max_samples: Optional[int] = None,
                 batch_size: Optional[int] = None) -> None:
        self.max_samples = max_samples
        self.batch_size = batch_size

    def before_train(self, runner) -> None:
        model = model_with(runner, 'load_basis', self, 'KDEP')
        if osp.isfile(model.basis_file):
            model.load_basis()
            return
        print_log(
            f'SVD basis {model.basis_file} not found: computing it with the '
            'teacher.',
            logger='current')
        dataloader = build_basis_dataloader(runner.cfg, self.batch_size)
        compute_basis_file(model, dataloader, model.basis_file,
                           self.max_samples)
        model.load_basis()
