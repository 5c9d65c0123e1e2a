# Copyright (c) mmsd contributors. All rights reserved.
"""Run the repository's ``tools/*.py`` as subprocesses, as a user would,
each within a stage of the active :class:`StageConsole`."""
import os
import os.path as osp
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, List, Optional, Sequence

from .console import Stage, StageConsole, format_metrics
from .work_dirs import finished_metrics, last_checkpoint

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


def run_tool(tool: str,
             *args: str,
             log: Optional[str] = None,
             stage: Optional[Stage] = None,
             name: Optional[str] = None) -> None:
    """Run ``tools/{tool}.py`` with ``args`` in a subprocess from the
    repository root.

    Args:
        tool (str): The tool's name, e.g. ``'train'``.
        *args (str): Its command-line arguments.
        log (str, optional): The file for its output. Defaults to
            ``{--work-dir}/{tool}.log``.
        stage (Stage, optional): The stage the run belongs to. Defaults to
            a stage of its own, ``name``.
        name (str, optional): The name of the run's own stage. Defaults to
            the tool's and its log folder's names.

    Raises:
        StageFailed: If the tool fails (its log's tail is shown).
    """
    if log is None:
        if '--work-dir' not in args:
            raise ValueError(f'tools/{tool}.py {" ".join(args)}: give a '
                             '--work-dir or a log file.')
        work_dir = args[args.index('--work-dir') + 1]
        log = osp.join(work_dir, f'{tool}.log')
    command = [sys.executable, tool_path(tool), *args]
    if stage is not None:
        stage.run(tool, command, log, REPO)
        return
    name = name or f'{tool} {osp.basename(osp.dirname(log))}'
    with StageConsole.current().stage(name) as stage:
        stage.run(tool, command, log, REPO)


def train_or_resume(config: str,
                    work_dir: str,
                    options: Sequence[str] = (),
                    final: str = '',
                    name: Optional[str] = None) -> float:
    """``tools/train.py config`` in ``work_dir`` with ``--cfg-options
    options``, unless the run already wrote ``final`` (a file name in
    ``work_dir``, e.g. ``'iter_1500.pth'``); a run interrupted before that
    resumes from its newest checkpoint. Returns the seconds it took (0 when
    reused). Its output goes to ``{work_dir}/train.log``."""
    if osp.isfile(osp.join(work_dir, final)):
        return 0.0
    os.makedirs(work_dir, exist_ok=True)
    resume = ['--resume'] if osp.isfile(osp.join(work_dir,
                                                 'last_checkpoint')) else []
    start = time.time()
    run_tool(
        'train',
        config,
        '--work-dir',
        work_dir,
        *resume,
        *(['--cfg-options', *options] if options else []),
        log=osp.join(work_dir, 'train.log'),
        name=name)
    return time.time() - start


def train_and_test(config: str,
                   work_dir: str,
                   options: Sequence[str] = (),
                   name: Optional[str] = None) -> dict:
    """Train ``config`` with ``--cfg-options options``, test its last
    checkpoint with the same options; return the test metrics.

    The runs are one stage, ``name`` (defaults to the work dir's name);
    their output goes to ``train.log`` and ``test.log`` in ``work_dir``.
    """
    options = ['--cfg-options', *options] if options else []
    metrics_file = osp.join(work_dir, 'test_metrics.json')
    console = StageConsole.current()
    with console.stage(name or osp.basename(work_dir)) as stage:
        run_tool(
            'train', config, '--work-dir', work_dir, *options, stage=stage)
        run_tool(
            'test',
            config,
            last_checkpoint(work_dir),
            '--work-dir',
            osp.join(work_dir, 'test'),
            '--out',
            metrics_file,
            '--out-item',
            'metrics',
            *options,
            log=osp.join(work_dir, 'test.log'),
            stage=stage)
        metrics = finished_metrics(work_dir)
        if metrics is None:
            raise FileNotFoundError(
                f'tools/test.py did not write {metrics_file}; see '
                f'{osp.join(work_dir, "test.log")}.')
        stage.result = format_metrics(metrics)
    return metrics


def finetune_and_test(ft_dir: str,
                      checkpoint: str,
                      config: str,
                      options: Sequence[str] = (),
                      checkpoint_option: str = 'model.backbone_checkpoint',
                      name: Optional[str] = None) -> dict:
    """Fine-tune ``config`` from ``checkpoint`` (set as
    ``checkpoint_option``) and test it, as the stage ``name``; return the
    test metrics."""
    return train_and_test(config, ft_dir,
                          [f'{checkpoint_option}={checkpoint}', *options],
                          name)


def map_in_threads(function: Callable, jobs: Iterable[tuple],
                   workers: int) -> List:
    """``[function(*job) for job in jobs]``, ``workers`` at a time (the runs
    are subprocesses, so threads suffice). The first failure cancels the
    jobs not yet started and is raised."""
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(function, *job) for job in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
