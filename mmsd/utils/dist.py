# Copyright (c) mmsd contributors. All rights reserved.
"""Multi-process training on machines without a GPU."""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config) -> bool:
    """Start a gloo process group when launched by torchrun without GPUs.

    MMEngine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and wraps
    the model with ``device_ids=[LOCAL_RANK]``, both of which fail on CPU.
    This initialises the group itself (the Runner then skips ``init_dist``)
    and asks for a device-less ``MMDistributedDataParallel``.

    Returns:
        bool: Whether a CPU process group was set up.
    """
    if (cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available()
            or 'WORLD_SIZE' not in os.environ):
        return False
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo', init_method='env://')
    cfg.env_cfg = dict(cfg.get('env_cfg', {}))
    cfg.env_cfg['dist_cfg'] = dict(backend='gloo')
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False)
    return True
