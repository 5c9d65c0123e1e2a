# Copyright (c) mmsd contributors. All rights reserved.
"""Test a checkpoint: MMPretrain's ``tools/test.py`` (same flags), plus
dataset checks, multi-process CPU testing, a checked checkpoint and
visualizer backends by name."""
import mmsd  # noqa: F401  (registers mmsd modules, safe checkpoint loading)
from mmsd.utils import (check_data_roots, expand_vis_backends, prepare_resume,
                        run_mmpretrain_tool, setup_cpu_distributed)


def prepare(cfg, args) -> None:
    check_data_roots(cfg, loaders=('test_dataloader', ))
    expand_vis_backends(cfg)
    setup_cpu_distributed(cfg)
    prepare_resume(cfg)


if __name__ == '__main__':
    run_mmpretrain_tool('test', prepare)
