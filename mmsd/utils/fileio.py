# Copyright (c) mmsd contributors. All rights reserved.
"""Atomic writes: a reader, or a run resumed after a kill, never sees half
a file."""
import os
import os.path as osp
import shutil
import tempfile
from contextlib import contextmanager
from typing import IO, Iterator, Optional, Union

import torch
from mmengine.fileio import LocalBackend, register_backend


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates private (0600) files; written files get the usual mode.
_FILE_MODE = 0o666 & ~_umask()
_DIR_MODE = 0o777 & ~_umask()


@contextmanager
def atomic_write(path: str,
                 mode: str = 'wb',
                 encoding: Optional[str] = None) -> Iterator[IO]:
    """Open a temporary file next to ``path``; when the block ends without
    an error, flush it to disk and rename it to ``path``.

    The rename replaces ``path`` in one step, so ``path`` holds either its
    old content or the complete new one, even if the process is killed.
    A kill leaves at most a hidden ``.{name}.*.tmp`` file behind.

    Args:
        path (str): The file to write.
        mode (str): ``'wb'`` or ``'w'``. Defaults to 'wb'.
        encoding (str, optional): Text encoding for ``'w'``.
            Defaults to None.
    """
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save(obj: object, path: str) -> None:
    """``torch.save(obj, path)``, atomically (:func:`atomic_write`)."""
    with atomic_write(path) as f:
        torch.save(obj, f)


@contextmanager
def atomic_directory(path: str) -> Iterator[str]:
    """Yield a temporary directory next to ``path`` to write into; when the
    block ends without an error, it replaces ``path``.

    A directory cannot be swapped in one step: an old ``path`` is first
    renamed aside, then removed. At every moment ``path`` is either absent,
    the old directory or the complete new one.
    """
    parent = osp.dirname(osp.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(
        dir=parent, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        yield tmp
        os.chmod(tmp, _DIR_MODE)
        old = None
        if osp.lexists(path):
            old = tempfile.mkdtemp(
                dir=parent, prefix=f'.{osp.basename(path)}.', suffix='.old')
            os.replace(path, osp.join(old, 'previous'))
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend, writing files atomically.

    MMEngine's :class:`~mmengine.runner.CheckpointHook` writes checkpoints
    through a file backend; the local one opens the final path and writes
    into it, so a run killed while saving leaves a truncated checkpoint.
    Select this one with ``backend_args=dict(backend='atomic_local')``.
    """

    def put(self, obj: bytes, filepath: Union[str, os.PathLike]) -> None:
        with atomic_write(str(filepath)) as f:
            f.write(obj)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, os.PathLike],
                 encoding: str = 'utf-8') -> None:
        with atomic_write(str(filepath), 'w', encoding=encoding) as f:
            f.write(obj)


register_backend('atomic_local', AtomicLocalBackend)
