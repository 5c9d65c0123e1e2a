# Copyright (c) mmsd contributors. All rights reserved.
import re

import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model

from mmsd.models.utils import CheckpointMismatchError, check_state_dict


@HOOKS.register_module()
class StrictLoadHook(Hook):
    """Refuse a checkpoint that does not fit the model when the runner
    loads it (``load_from``, ``--resume``, ``tools/test.py CHECKPOINT``).

    MMEngine loads these with ``strict=False`` and only logs what did not
    match: a backbone-only file given to ``tools/test.py`` left a random
    classifier head and printed its accuracy. This hook checks every key
    and shape, as mmsd's other loads do (:func:`check_state_dict`), before
    the weights are copied into the model.
    """
    # After every other hook changed the checkpoint (e.g. EMA swaps).
    priority = 'LOWEST'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state_dict = checkpoint.get('state_dict', checkpoint)
        # MMEngine's default ``revise_keys`` when it loads.
        tensors = {
            re.sub(r'^module\.', '', key): value
            for key, value in state_dict.items()
            if isinstance(value, torch.Tensor)
        }
        filename = runner.cfg.get('load_from') or 'checkpoint'
        try:
            check_state_dict(get_ori_model(runner.model), tensors, filename)
        except CheckpointMismatchError as err:
            raise CheckpointMismatchError(
                f'{err}\nTesting, resuming and load_from need a checkpoint '
                'of this whole model, e.g. the iter_*.pth of its own '
                'training run. Start fine-tuning from an encoder with '
                'model.backbone_checkpoint instead (checked too).') from None
