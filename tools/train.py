# Copyright (c) mmsd contributors. All rights reserved.
"""Train with a config: MMPretrain's ``tools/train.py`` (same flags), plus
dataset checks, multi-process CPU training, a checked resume and visualizer
backends by name (``--cfg-options visualizer.vis_backends=[LocalVisBackend,
TensorboardVisBackend]``)."""
import mmsd  # noqa: F401  (registers mmsd modules, safe checkpoint loading)
from mmsd.utils import (check_data_roots, expand_vis_backends, prepare_resume,
                        run_mmpretrain_tool, setup_cpu_distributed)


def prepare(cfg, args) -> None:
    check_data_roots(cfg)
    expand_vis_backends(cfg)
    setup_cpu_distributed(cfg)
    prepare_resume(cfg)


if __name__ == '__main__':
    run_mmpretrain_tool('train', prepare)
