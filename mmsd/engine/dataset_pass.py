# Copyright (c) mmsd contributors. All rights reserved.
"""One ordered pass over a dataset, shared out over processes and gathered
back in dataset order (per-sample results equal a single-process pass)."""
import copy
from typing import Callable, Optional, Tuple, Union

import torch
from mmengine.dist import all_gather
from mmengine.runner import Runner
from torch.utils.data import DataLoader

Outputs = Union[torch.Tensor, Tuple[torch.Tensor, ...]]


def build_ordered_dataloader(loader: dict,
                             batch_size: Optional[int] = None) -> DataLoader:
    """Build a dataloader config for :func:`gather_in_order`.

    The sampler is replaced by an unshuffled ``DefaultSampler`` that pads
    every process to the same number of samples (no batch is dropped),
    ``collate_fn`` defaults to ``default_collate`` and the loader gets a
    generator of its own, so iterating it draws nothing from the global
    random state.

    Args:
        loader (dict): A dataloader config (``dataset``, ``batch_size``,
            ...).
        batch_size (int, optional): Override the batch size. Defaults to
            None.
    """
    cfg = copy.deepcopy(dict(loader))
    cfg['sampler'] = dict(type='DefaultSampler', shuffle=False, round_up=True)
    cfg.pop('batch_sampler', None)
    cfg['drop_last'] = False
    cfg.setdefault('collate_fn', dict(type='default_collate'))
    cfg.setdefault('num_workers', 0)
    if batch_size is not None:
        cfg['batch_size'] = batch_size
    dataloader = Runner.build_dataloader(cfg, seed=0, diff_rank_seed=False)
    dataloader.generator = torch.Generator().manual_seed(0)
    return dataloader


def gather_in_order(
        dataloader: DataLoader,
        fn: Callable[[dict, torch.Tensor],
                     Outputs]) -> Tuple[torch.Tensor, ...]:
    """Run ``fn`` over this process's shard and gather the results of the
    whole dataset, in dataset order, on every process.

    Args:
        dataloader (DataLoader): From :func:`build_ordered_dataloader`.
        fn (Callable): ``fn(data_batch, indices)`` returns a tensor (or a
            tuple of tensors) with one row per sample of the batch;
            ``indices`` holds the samples' dataset indices.

    Returns:
        tuple[Tensor]: Per output of ``fn``, ``(N, ...)`` on the CPU, row
        ``i`` for dataset sample ``i``.
    """
    total = len(dataloader.dataset)
    indices = torch.as_tensor(list(dataloader.sampler), dtype=torch.long)
    parts, start = None, 0
    for data in dataloader:
        size = len(data['inputs'])
        outputs = fn(data, indices[start:start + size])
        outputs = outputs if isinstance(outputs, tuple) else (outputs, )
        start += size
        if parts is None:
            parts = [[] for _ in outputs]
        for part, output in zip(parts, outputs):
            if len(output) != size:
                raise ValueError(f'gather_in_order: fn returned {len(output)}'
                                 f' rows for a batch of {size} samples.')
            # The padded sampler gives every process batches of the same
            # sizes: rank r's j-th sample is dataset sample j * world + r.
            gathered = all_gather(output.detach().contiguous())
            part.append(torch.stack(gathered, dim=1).flatten(0, 1).cpu())
    if parts is None:
        raise ValueError('gather_in_order: the dataloader is empty.')
    return tuple(torch.cat(part)[:total] for part in parts)
