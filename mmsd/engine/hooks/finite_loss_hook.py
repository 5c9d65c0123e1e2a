# Copyright (c) mmsd contributors. All rights reserved.
import math
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from mmsd.utils import find_resumable_checkpoint


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training with a clear error as soon as a loss is NaN or inf.

    Without it a diverged run keeps going and saves NaN checkpoints over the
    good ones. The error names the iteration, every loss term and the newest
    intact checkpoint of the work_dir (or says there is none).
    """
    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs:
            return
        losses = {
            key: float(
                value.detach() if isinstance(value, torch.Tensor) else value)
            for key, value in outputs.items() if 'loss' in key
        }
        if all(math.isfinite(value) for value in losses.values()):
            return
        terms = ', '.join(f'{key}={value}' for key, value in losses.items())
        checkpoint = find_resumable_checkpoint(runner.work_dir, log=False)
        if checkpoint is None:
            saved = (f'no checkpoint was saved in {runner.work_dir} before '
                     'it, so the run must start again')
        else:
            saved = (f'the newest checkpoint saved before it is '
                     f'{checkpoint}')
        raise FloatingPointError(
            f'Iteration {runner.iter + 1}: the loss is not finite ({terms}); '
            f'{saved}. Lower the learning rate or check the input data.')
