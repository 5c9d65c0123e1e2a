# Copyright (c) mmsd contributors. All rights reserved.
"""Helpers for the scripts in ``tools/`` and ``benchmarks/`` that chain the
normal tools: running a tool as a subprocess, reading what it left in its
work dir, tabulating seeds, and the demos' stages (``demo``,
``text_demo``). Scripts import these; no script imports another."""
from .tools import (REPO, finetune_and_test, run_tool, train_and_test,
                    train_or_resume)
from .work_dirs import finished_metrics, last_checkpoint, read_scalars

__all__ = [
    'REPO', 'finetune_and_test', 'finished_metrics', 'last_checkpoint',
    'read_scalars', 'run_tool', 'train_and_test', 'train_or_resume'
]
