# Copyright (c) mmsd contributors. All rights reserved.
from .checkpoint import (REEXPORT_RECIPE, allow_mmengine_checkpoints,
                         export_backbone, load_checkpoint_file,
                         load_local_checkpoint, read_meta, read_state_dict,
                         register_checkpoint_loader, save_backbone,
                         select_prefix, unwrap_state_dict)
from .data_roots import check_data_roots, leaf_datasets
from .dist import setup_cpu_distributed
from .fileio import (AtomicLocalBackend, atomic_directory, atomic_save,
                     atomic_write)
from .resume import (check_checkpoint_file, checkpoint_problem,
                     find_resumable_checkpoint, prepare_resume)
from .tools import load_mmpretrain_tool, run_mmpretrain_tool
from .vis_backends import expand_vis_backends

__all__ = [
    'allow_mmengine_checkpoints', 'atomic_directory', 'atomic_save',
    'atomic_write', 'AtomicLocalBackend', 'check_checkpoint_file',
    'check_data_roots', 'checkpoint_problem', 'expand_vis_backends',
    'export_backbone', 'find_resumable_checkpoint', 'leaf_datasets',
    'load_checkpoint_file', 'load_local_checkpoint', 'load_mmpretrain_tool',
    'prepare_resume', 'read_meta', 'read_state_dict', 'REEXPORT_RECIPE',
    'register_checkpoint_loader', 'run_mmpretrain_tool', 'save_backbone',
    'select_prefix', 'setup_cpu_distributed', 'unwrap_state_dict'
]
