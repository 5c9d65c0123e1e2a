# Copyright (c) mmsd contributors. All rights reserved.
"""Reading and writing checkpoints with ``torch.load(weights_only=True)``
or ``safetensors``."""
import os.path as osp
import pickle
import re
from collections import OrderedDict
from typing import Callable, Dict, Optional, Union

import torch
from mmengine.runner import CheckpointLoader

from .fileio import atomic_save
from .resume import checkpoint_problem


def _history_buffer_state(buffer) -> dict:
    """``HistoryBuffer`` state without its statistics methods.

    MMEngine pickles the class-level registry of statistics methods with
    every buffer, as ``getattr`` calls that ``weights_only`` loading rightly
    refuses. The registry is rebuilt on load (``__setstate__``) and filled
    at import time, so the buffers are saved without it.
    """
    state = dict(buffer.__dict__)
    state.pop('statistics_methods', None)
    return state


def allow_mmengine_checkpoints() -> None:
    """Let ``torch.load(weights_only=True)`` read MMEngine's checkpoints.

    Torch >= 2.6 loads with ``weights_only=True``, which rejects the
    message-hub buffers and numpy arrays MMEngine stores in ``meta`` and
    ``message_hub``. Only these data classes are allow-listed, and buffers
    are saved without the callables they used to carry; arbitrary code in a
    checkpoint still cannot run.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer

    HistoryBuffer.__getstate__ = _history_buffer_state
    numpy_globals = [
        np.dtype, np.ndarray, np._core.multiarray._reconstruct,
        np._core.multiarray.scalar
    ]
    numpy_globals += [
        getattr(np.dtypes, name) for name in np.dtypes.__all__
        if name.endswith('DType')
    ]
    torch.serialization.add_safe_globals([HistoryBuffer, *numpy_globals])


# Where the README shows how to keep the weights of a trusted checkpoint
# that safe loading refuses.
REEXPORT_RECIPE = 'README.md, "Checked, safe checkpoint loading"'


def load_checkpoint_file(filename: str,
                         what: str = 'checkpoint',
                         map_location: Union[str, Callable] = 'cpu') -> dict:
    """Read a whole checkpoint without running code from it.

    ``.safetensors`` files are read with ``safetensors``; other local files
    with ``torch.load(weights_only=True)``, which refuses any pickle that
    would import or call code; other URIs through MMEngine's
    ``CheckpointLoader`` (which loads the same way). Errors name the file
    and say what to do: for a refused pickle, the README's re-export recipe
    (MMEngine writes such files when mmsd is not imported); for a file cut
    short or damaged, what :func:`checkpoint_problem` found.

    Args:
        filename (str): Local path or any URI MMEngine can read.
        what (str): What the file is for, used in error messages.
            Defaults to 'checkpoint'.
        map_location (str | Callable): As ``torch.load``'s.
            Defaults to 'cpu'.

    Returns:
        dict: The checkpoint (a state dict, or a dict holding one).
    """
    local = '://' not in filename
    if local and not osp.isfile(filename):
        raise FileNotFoundError(f'The {what} file {filename!r} does not '
                                'exist.')
    try:
        if local and filename.endswith('.safetensors'):
            from safetensors.torch import load_file
            device = map_location if isinstance(map_location, str) else 'cpu'
            checkpoint = load_file(filename, device=device)
        elif local:
            checkpoint = torch.load(
                filename, map_location=map_location, weights_only=True)
        else:
            checkpoint = CheckpointLoader.load_checkpoint(
                filename, map_location=map_location)
    except pickle.UnpicklingError as err:
        code = re.search(r'Unsupported global: GLOBAL (\S+)', str(err))
        problem = checkpoint_problem(filename) if local else None
        if code is None or problem is not None:
            raise RuntimeError(f'Cannot read the {what} file {filename!r}: '
                               f'{problem or err}.') from err
        writer = ''
        if code.group(1) == 'getattr':
            writer = (' MMEngine writes such calls (its HistoryBuffer '
                      'statistics methods) when mmsd is not imported.')
        raise RuntimeError(
            f'Refused to read the {what} file {filename!r}: unpickling it '
            f'would import and run {code.group(1)}, and mmsd never runs code '
            'from a checkpoint (torch.load with weights_only=True).'
            f'{writer} If you wrote the file or otherwise trust it, re-save '
            f'its weights once as {REEXPORT_RECIPE} shows.') from err
    except Exception as err:  # unreadable, truncated or damaged
        problem = checkpoint_problem(filename) if local else None
        if problem is not None:
            raise RuntimeError(
                f'Cannot read the {what} file {filename!r}: {problem}. A '
                'run killed while writing it, a full disk or an '
                'interrupted copy leaves such a file; use another '
                'checkpoint.') from err
        raise RuntimeError(f'Cannot read the {what} file {filename!r}: '
                           f'{err}') from err
    if not isinstance(checkpoint, dict):
        raise RuntimeError(f'The {what} file {filename!r} holds a '
                           f'{type(checkpoint).__name__}, not a state dict.')
    return checkpoint


def load_local_checkpoint(
        filename: str,
        map_location: Union[str, Callable, None] = None) -> dict:
    """MMEngine's loader of local checkpoint files, replaced by
    :func:`load_checkpoint_file` so that the runner's loads (``load_from``,
    ``--resume``, ``tools/test.py``) name the file in their errors too.
    Registered by :func:`register_checkpoint_loader`."""
    if '://' in filename:  # a scheme no MMEngine loader knows
        raise ValueError(f'No checkpoint loader reads {filename!r}.')
    return load_checkpoint_file(
        osp.expanduser(filename), map_location=map_location)


def register_checkpoint_loader() -> None:
    """Make MMEngine's ``CheckpointLoader`` read local files with
    :func:`load_local_checkpoint`."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)


def read_meta(filename: str) -> dict:
    """The ``meta`` of a local ``.pth`` checkpoint, without reading its
    tensors (memory-mapped, ``weights_only``); ``{}`` if it has none or
    cannot say."""
    if '://' in filename or filename.endswith('.safetensors') or \
            not osp.isfile(filename):
        return {}
    try:
        checkpoint = torch.load(
            filename, map_location='cpu', weights_only=True, mmap=True)
    except Exception:  # the tensor read names the problem
        return {}
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    return meta if isinstance(meta, dict) else {}


def unwrap_state_dict(checkpoint: dict) -> dict:
    """The state dict inside an MMEngine (``state_dict``), official-style
    (``model``) or bare checkpoint."""
    return checkpoint.get('state_dict', checkpoint.get('model', checkpoint))


def read_state_dict(filename: str,
                    prefix: str = '',
                    what: str = 'checkpoint') -> Dict[str, torch.Tensor]:
    """Read the tensors under ``prefix`` from a checkpoint file.

    Accepts MMEngine checkpoints (``state_dict``), official-style ones
    (``model``) and bare state dicts, as ``.pth`` or ``.safetensors``;
    ``prefix`` is stripped from the keys.

    Args:
        filename (str): Local path or any URI MMEngine can read.
        prefix (str): Only keys starting with it are kept. Defaults to ''.
        what (str): What the file is for, used in error messages.
            Defaults to 'checkpoint'.
    """
    checkpoint = load_checkpoint_file(filename, what)
    return select_prefix(
        unwrap_state_dict(checkpoint), prefix, f'The {what} file {filename!r}')


def select_prefix(state_dict: Dict[str, torch.Tensor], prefix: str,
                  source: str) -> Dict[str, torch.Tensor]:
    """The tensors of ``state_dict`` under ``prefix``, prefix stripped.

    Raises a ``KeyError`` that names ``source`` and the prefixes found if
    there are none.
    """
    tensors = OrderedDict(
        (key[len(prefix):], value) for key, value in state_dict.items()
        if key.startswith(prefix) and isinstance(value, torch.Tensor))
    if not tensors:
        found = sorted({key.split('.')[0] + '.' for key in state_dict})
        raise KeyError(f'{source} has no weights under the prefix '
                       f'{prefix!r}; its top-level prefixes are {found[:10]}.')
    return tensors


def save_backbone(state_dict: Dict[str, torch.Tensor],
                  dst: str,
                  meta: Optional[dict] = None) -> int:
    """Write backbone weights as a tensors-only file under ``backbone.``,
    atomically.

    Fine-tune configs load the file with ``prefix='backbone.'`` and
    ``torch.load(weights_only=True)``. Returns the number of tensors.
    """
    exported = OrderedDict(('backbone.' + key, value.detach().cpu().clone())
                           for key, value in state_dict.items())
    atomic_save(dict(state_dict=exported, meta=dict(meta or {})), dst)
    return len(exported)


def export_backbone(src: str,
                    dst: str,
                    source_prefix: str = 'backbone.') -> int:
    """Export the weights under ``source_prefix`` of ``src`` to ``dst``."""
    state_dict = read_state_dict(src, source_prefix, what='source checkpoint')
    return save_backbone(
        state_dict,
        dst,
        meta=dict(source=osp.basename(src), prefix=source_prefix))
