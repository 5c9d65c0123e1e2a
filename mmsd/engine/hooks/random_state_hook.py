# Copyright (c) mmsd contributors. All rights reserved.
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the torch random state in checkpoints and restore it on resume.

    MMEngine re-seeds a resumed run, so random masks and dropout differ from
    the uninterrupted run. This hook stores the CPU (and CUDA) generator
    states and restores them right before the first resumed iteration, after
    the train loop has replayed the dataloader. The train dataloader gets a
    generator of its own, so that starting a new epoch does not draw from
    the global generator at a point a resumed run cannot replay.
    """
    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_train(self, runner) -> None:
        loader = runner.train_loop.dataloader
        if getattr(loader, 'generator', None) is None:
            seed = runner.seed if runner.seed is not None else 0
            loader.generator = torch.Generator().manual_seed(seed)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(cpu=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint.setdefault('meta', {})['torch_rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('meta', {}).get('torch_rng_state')

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
