# Copyright (c) mmsd contributors. All rights reserved.
"""Find the checkpoint a run resumes from, and refuse broken ones by name."""
import logging
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional

from mmengine.config import Config
from mmengine.logging import print_log

CHECKPOINT_NAME = re.compile(r'^(iter|epoch)_(\d+)\.pth$')
# The temporary file of an interrupted atomic_write of a checkpoint.
PARTIAL_WRITE = re.compile(r'^\.(iter|epoch)_\d+\.pth\..+\.tmp$')


def checkpoint_problem(filename: str) -> Optional[str]:
    """Why the checkpoint file cannot be read whole, or None.

    Checkpoints written by ``torch.save`` are zip archives: a file cut short
    (a run killed while writing it, a full disk, an interrupted copy) has no
    central directory at its end, and a damaged record fails its CRC. Both
    are found without unpickling anything. Files in torch's legacy format
    are not checked.
    """
    if not osp.isfile(filename):
        return 'it does not exist'
    if osp.getsize(filename) == 0:
        return 'it is empty (0 bytes)'
    with open(filename, 'rb') as f:
        if f.read(2) != b'PK':
            return None  # legacy torch format: torch.load will tell
    try:
        with zipfile.ZipFile(filename) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError) as err:
        return f'it is truncated ({err})'
    if damaged is not None:
        return f'its record {damaged!r} is damaged (CRC mismatch)'
    return None


def checkpoint_candidates(work_dir: str) -> List[str]:
    """The ``iter_N.pth``/``epoch_N.pth`` files of ``work_dir`` and of the
    folder ``last_checkpoint`` points to, newest (highest N) first."""
    folders = [work_dir]
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            target = f.read().strip()
        if target and osp.dirname(target) and \
                osp.abspath(osp.dirname(target)) != osp.abspath(work_dir):
            folders.append(osp.dirname(target))
    found = []
    for folder in folders:
        if not osp.isdir(folder):
            continue
        for name in os.listdir(folder):
            match = CHECKPOINT_NAME.match(name)
            if match:
                found.append((int(match.group(2)), osp.join(folder, name)))
    return [path for _, path in sorted(found, reverse=True)]


def find_resumable_checkpoint(work_dir: str,
                              log: bool = True) -> Optional[str]:
    """The newest intact checkpoint in ``work_dir``, or None.

    Newer files that are broken (see :func:`checkpoint_problem`) are
    skipped, with a warning naming each when ``log`` is set.
    """
    for path in checkpoint_candidates(work_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        if log:
            print_log(
                f'Resume: skipping {path}: {problem}.',
                logger='current',
                level=logging.WARNING)
    return None


def remove_partial_writes(work_dir: str) -> None:
    """Delete the temporary files of checkpoints whose writing was
    interrupted (see :func:`mmsd.utils.atomic_write`): a killed run leaves
    one behind, as large as a checkpoint."""
    if not osp.isdir(work_dir):
        return
    for name in os.listdir(work_dir):
        if PARTIAL_WRITE.match(name):
            path = osp.join(work_dir, name)
            print_log(
                f'Resume: removing {path}, a checkpoint whose writing was '
                'interrupted.',
                logger='current')
            try:
                os.remove(path)
            except FileNotFoundError:
                pass


def check_checkpoint_file(filename: str, what: str = 'checkpoint') -> None:
    """Raise a ``RuntimeError`` naming ``filename`` if it cannot be read
    whole, with the newest intact checkpoint beside it, if any."""
    if '://' in filename:
        return
    problem = checkpoint_problem(filename)
    if problem is None:
        return
    message = f'The {what} file {filename!r} cannot be used: {problem}.'
    folder = osp.dirname(osp.abspath(filename))
    intact = find_resumable_checkpoint(folder, log=False)
    if intact is not None:
        message += f' The newest intact checkpoint beside it is {intact!r}.'
    message += (' A run killed while writing a checkpoint leaves such a '
                'file; --resume without a path picks the newest intact '
                'checkpoint of the work_dir.')
    raise RuntimeError(message)


def prepare_resume(cfg: Config) -> None:
    """Decide, before the runner is built, which checkpoint it loads.

    With ``resume=True`` and no ``load_from`` (``--resume`` alone), MMEngine
    reads ``work_dir/last_checkpoint`` and fails on a checkpoint cut short
    (or on an empty ``last_checkpoint``). Here the newest intact checkpoint
    of the work_dir is chosen instead, skipping broken ones with a warning
    (and the temporary files of interrupted writes are removed); with none,
    training starts from the beginning. A checkpoint given by
    name (``--resume PATH``, ``load_from``, ``tools/test.py CONFIG PATH``)
    must be intact, or the error names it.
    """
    load_from = cfg.get('load_from')
    if load_from:
        check_checkpoint_file(load_from)
        return
    if not cfg.get('resume'):
        return
    if os.environ.get('RANK', '0') == '0':
        remove_partial_writes(cfg.work_dir)
    path = find_resumable_checkpoint(cfg.work_dir)
    if path is None:
        print_log(
            f'Resume: no intact checkpoint in {cfg.work_dir}; training '
            'starts from the beginning.',
            logger='current')
        cfg.resume = False
    else:
        print_log(f'Resume: from {path}.', logger='current')
        cfg.load_from = path
