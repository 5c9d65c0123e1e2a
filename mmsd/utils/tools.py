# Copyright (c) mmsd contributors. All rights reserved.
"""Run MMPretrain's own ``tools/*.py`` with mmsd's preparation step."""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import Callable

import torch.distributed as dist
from mmengine.config import Config


def load_mmpretrain_tool(name: str) -> ModuleType:
    """Import ``tools/{name}.py`` shipped inside the mmpretrain package."""
    import mmpretrain
    path = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'tools', f'{name}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'MMPretrain tool {path!r} is missing; reinstall mmpretrain '
            '(pip install mmpretrain==1.2.0).')
    spec = importlib.util.spec_from_file_location(f'mmpretrain_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_mmpretrain_tool(name: str, prepare: Callable[[Config, object],
                                                     None]) -> None:
    """Run MMPretrain's tool ``name`` (same flags and behaviour), calling
    ``prepare(cfg, args)`` after the command-line arguments are merged into
    the config and before the Runner is built."""
    tool = load_mmpretrain_tool(name)
    merge_args = tool.merge_args

    def merge_and_prepare(cfg: Config, args) -> Config:
        cfg = merge_args(cfg, args)
        prepare(cfg, args)
        return cfg

    tool.merge_args = merge_and_prepare
    tool.main()
    # MMEngine leaves the process group to interpreter exit, where a gloo
    # group still holding its threads can abort one rank ("terminate called
    # without an active exception") after a run that succeeded.
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
