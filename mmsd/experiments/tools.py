# Copyright (c) mmsd contributors. All rights reserved.
"""Run the repository's ``tools/*.py`` as subprocesses, as a user would."""
import json
import os.path as osp
import subprocess
import sys
from typing import Optional, Sequence

from .work_dirs import last_checkpoint

#: The repository root: ``tools/``, ``configs/`` and ``demo_data/`` live
#: there (mmsd is installed with ``pip install -e .`` from a clone).
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def tool_path(tool: str) -> str:
    """The path of ``tools/{tool}.py``, checked."""
    path = osp.join(REPO, 'tools', f'{tool}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} does not exist. The experiment runners need a clone of '
            'the mmsd repository with mmsd installed from it '
            '(pip install -e .).')
    return path


def run_tool(tool: str, *args: str, log: Optional[str] = None) -> None:
    """Run ``tools/{tool}.py`` in a subprocess from the repository root; its
    output streams through, or goes to the file ``log`` (for runs side by
    side)."""
    command = [sys.executable, tool_path(tool), *args]
    print(
        '\n$ ' + ' '.join(command[1:]) + (f'  > {log}' if log else ''),
        flush=True)
    if log is None:
        subprocess.run(command, cwd=REPO, check=True)
        return
    with open(log, 'w') as f:
        result = subprocess.run(command, cwd=REPO, stdout=f, stderr=f)
    if result.returncode:
        raise RuntimeError(f'{" ".join(command[1:])} failed; see {log}')


def train_and_test(config: str,
                   work_dir: str,
                   options: Sequence[str] = (),
                   log: Optional[str] = None) -> dict:
    """Train ``config`` with ``--cfg-options options``, test its last
    checkpoint with the same options; return the test metrics. ``log``:
    a file for the training output (the test's goes beside it)."""
    options = ['--cfg-options', *options] if options else []
    run_tool('train', config, '--work-dir', work_dir, *options, log=log)
    metrics = osp.join(work_dir, 'test_metrics.json')
    run_tool(
        'test',
        config,
        last_checkpoint(work_dir),
        '--work-dir',
        osp.join(work_dir, 'test'),
        '--out',
        metrics,
        '--out-item',
        'metrics',
        *options,
        log=log and log.replace('.log', '_test.log'))
    with open(metrics) as f:
        return json.load(f)


def finetune_and_test(ft_dir: str,
                      checkpoint: str,
                      config: str,
                      options: Sequence[str] = (),
                      checkpoint_option: str = 'model.backbone_checkpoint',
                      log: Optional[str] = None) -> dict:
    """Fine-tune ``config`` from ``checkpoint`` (set as
    ``checkpoint_option``) and test it; return the test metrics."""
    return train_and_test(config, ft_dir,
                          [f'{checkpoint_option}={checkpoint}', *options], log)
