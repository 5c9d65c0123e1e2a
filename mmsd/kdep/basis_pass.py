# Copyright (c) mmsd contributors. All rights reserved.
"""The basis pass of KDEP: one pass of the frozen teacher over the
pre-training images, gathered across processes, and the SVD basis file
written once.

Used by both ``tools/compute_svd_basis.py`` and
:class:`mmsd.kdep.SVDBasisHook`.
"""
import copy
import math
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.dist import (all_gather, barrier, broadcast_object_list,
                           get_dist_info)
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmpretrain.utils import get_ori_model
from torch import nn
from torch.utils.data import DataLoader

from .svd_basis import SVDBasis


def basis_dataloader_cfg(cfg: Config,
                         batch_size: Optional[int] = None) -> dict:
    """The dataloader config of the basis pass.

    ``cfg.svd_basis_dataloader`` if the config has one (e.g. with a
    deterministic test pipeline), else ``cfg.train_dataloader``. Its sampler
    is always replaced by an ordered ``DefaultSampler`` (and no batch is
    dropped), so that each process reads its own shard and the gathered
    features come back in dataset order.
    """
    loader = cfg.get('svd_basis_dataloader') or cfg.get('train_dataloader')
    if not loader:
        raise KeyError('The config has neither svd_basis_dataloader nor '
                       'train_dataloader to compute the SVD basis on.')
    loader = copy.deepcopy(dict(loader))
    loader['sampler'] = dict(
        type='DefaultSampler', shuffle=False, round_up=True)
    loader.pop('batch_sampler', None)
    loader['drop_last'] = False
    if batch_size is not None:
        loader['batch_size'] = batch_size
    return loader


def build_basis_dataloader(cfg: Config,
                           batch_size: Optional[int] = None) -> DataLoader:
    """Build the dataloader of :func:`basis_dataloader_cfg`."""
    return Runner.build_dataloader(
        basis_dataloader_cfg(cfg, batch_size), seed=0, diff_rank_seed=False)


@torch.no_grad()
def collect_teacher_features(
        model: nn.Module,
        dataloader: DataLoader,
        max_samples: Optional[int] = None) -> Optional[torch.Tensor]:
    """Teacher features of the first ``max_samples`` images, in order.

    Every process passes its shard (from the dataloader's
    ``DefaultSampler``) through the teacher; the batches are gathered with
    ``all_gather`` and interleaved back into dataset order, so the result
    equals a single-process pass.

    Args:
        model (nn.Module): A :class:`mmsd.kdep.KDEP` (or a wrapper).
        dataloader (DataLoader): With an unshuffled ``DefaultSampler``.
        max_samples (int, optional): Use only the first images of the
            dataset. Defaults to None (all).

    Returns:
        Tensor, optional: ``(N, D)`` float32 on rank 0, None elsewhere.
    """
    model = get_ori_model(model)
    rank, world_size = get_dist_info()
    total = len(dataloader.dataset)
    if max_samples is not None:
        total = min(total, max_samples)
    per_rank = math.ceil(total / world_size)
    chunks, seen = [], 0
    for batch in dataloader:
        if seen >= per_rank:
            break
        data = model.data_preprocessor(batch, False)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        inputs = inputs[:per_rank - seen]
        features = model.extract_teacher_feat(inputs).float().contiguous()
        seen += features.shape[0]
        # Same shapes on every rank: the padded sampler gives each rank the
        # same number of images.
        gathered = all_gather(features)
        if rank == 0:
            chunks.append(torch.stack(gathered, dim=1).flatten(0, 1).cpu())
        if rank == 0 and len(chunks) % 20 == 0:
            print_log(
                f'SVD basis: {seen * world_size}/{total} teacher features',
                logger='current')
    if seen < per_rank:
        raise RuntimeError(f'SVD basis: the dataloader gave {seen} images '
                           f'to rank {rank}, expected {per_rank}.')
    if rank != 0:
        return None
    return torch.cat(chunks)[:total]


def _student_width(model: nn.Module, dataloader: DataLoader) -> int:
    k = model.student_dim
    if k is not None:
        return k
    batch = next(iter(dataloader))
    inputs = model.data_preprocessor(batch, False)['inputs']
    if isinstance(inputs, (list, tuple)):
        inputs = inputs[0]
    training = model.backbone.training
    model.backbone.eval()
    with torch.no_grad():
        k = model.extract_feat(inputs[:1]).shape[1]
    model.backbone.train(training)
    return k


def compute_basis_file(model: nn.Module,
                       dataloader: DataLoader,
                       filename: Optional[str] = None,
                       max_samples: Optional[int] = None) -> SVDBasis:
    """Compute the SVD basis of the teacher's features and write it once.

    All processes pass their shard of the images through the teacher; rank
    0 computes the basis (``k`` = the student's width) and writes
    ``filename``; then every process reads the same file. An error on rank
    0 is raised on every rank instead of leaving them waiting.

    Args:
        model (nn.Module): A :class:`mmsd.kdep.KDEP` (or a wrapper).
        dataloader (DataLoader): From :func:`build_basis_dataloader`.
        filename (str, optional): Defaults to ``model.basis_file``.
        max_samples (int, optional): Use only the first images.
            Defaults to None.

    Returns:
        SVDBasis: The basis as read back from the file.
    """
    model = get_ori_model(model)
    filename = filename or model.basis_file
    rank, _ = get_dist_info()
    k = _student_width(model, dataloader)
    features = collect_teacher_features(model, dataloader, max_samples)
    status = [None]
    if rank == 0:
        try:
            basis = SVDBasis.compute(features, k)
            basis.save(filename)
            print_log(
                f'SVD basis: wrote {filename} (k={k} of '
                f'{features.shape[1]} dims, {features.shape[0]} images, '
                f'{100 * basis.explained_variance(features):.1f}% of the '
                'variance).',
                logger='current')
        except Exception as err:
            status = [f'{type(err).__name__}: {err}']
            broadcast_object_list(status)
            raise
    broadcast_object_list(status)
    if status[0] is not None:
        raise RuntimeError(f'Rank 0 failed to compute the SVD basis: '
                           f'{status[0]}')
    barrier()
    return SVDBasis.load(filename)
