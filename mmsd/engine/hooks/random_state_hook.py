# Copyright (c) mmsd contributors. All rights reserved.
import logging
from typing import Optional

import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

from ..utils import RankStateMixin


def rng_state() -> dict:
    """This process's torch random state (CPU, and CUDA if present)."""
    state = dict(cpu=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


@HOOKS.register_module()
class RandomStateHook(RankStateMixin, Hook):
    """Save the torch random state in checkpoints and restore it on resume.

    MMEngine re-seeds a resumed run, so random masks and dropout differ from
    the uninterrupted run. This hook stores the CPU (and CUDA) generator
    states and restores them right before the first resumed iteration, after
    the train loop has replayed the dataloader. The train dataloader gets a
    generator of its own, so that starting a new epoch does not draw from
    the global generator at a point a resumed run cannot replay.

    Every process draws its own random numbers (MMEngine seeds each rank
    differently), but only rank 0 writes checkpoints: in distributed runs
    the states of all ranks are gathered when a checkpoint is due, and each
    rank restores its own on resume.
    """
    # Before CheckpointHook (VERY_LOW): the states are gathered when an
    # iteration ends, then saved with the checkpoint written after it.
    priority = 'LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_train(self, runner) -> None:
        loader = runner.train_loop.dataloader
        if getattr(loader, 'generator', None) is None:
            seed = runner.seed if runner.seed is not None else 0
            loader.generator = torch.Generator().manual_seed(seed)

    def rank_state(self, runner) -> dict:
        return rng_state()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.setdefault('meta', {})
        states = self.pop_rank_states()
        if states is None:
            meta['torch_rng_state'] = rng_state()
        else:
            meta['torch_rng_state'] = states[0]
            meta['torch_rng_states'] = states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta', {})
        states = meta.get('torch_rng_states')
        world_size = get_world_size()
        saved_size = 1 if states is None else len(states)
        if 'torch_rng_state' in meta and saved_size != world_size:
            print_log(
                f'RandomStateHook: the checkpoint was saved by {saved_size} '
                f'processes, this run has {world_size}; the random numbers '
                'after resuming differ from an uninterrupted run.',
                logger='current',
                level=logging.WARNING)
        if states is not None and saved_size == world_size:
            self._pending = states[get_rank()]
        else:
            self._pending = meta.get('torch_rng_state')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        if self._pending is None:
            return
        torch.set_rng_state(self._pending['cpu'])
        if 'cuda' in self._pending and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(self._pending['cuda'])
        self._pending = None
