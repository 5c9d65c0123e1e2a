# Copyright (c) mmsd contributors. All rights reserved.
"""Read what a finished ``tools/train.py`` or ``tools/test.py`` run left in
its work dir."""
import glob
import json
import os.path as osp
from typing import List, Optional


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint MMEngine named in ``{work_dir}/last_checkpoint``."""
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} does not exist: the training run in {work_dir} did not '
            'save a checkpoint.')
    with open(path) as f:
        return f.read().strip()


def read_scalars(work_dir: str) -> List[dict]:
    """The logged scalars (``vis_data/scalars.json``) of the latest run in
    ``work_dir``, one dict per logged step."""
    runs = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not runs:
        raise FileNotFoundError(
            f'No */vis_data/scalars.json in {work_dir}: no training run '
            'logged there.')
    with open(runs[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def finished_metrics(work_dir: str) -> Optional[dict]:
    """The test metrics (``test_metrics.json``) of a run that already
    finished in ``work_dir``, or None."""
    path = osp.join(work_dir, 'test_metrics.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)
