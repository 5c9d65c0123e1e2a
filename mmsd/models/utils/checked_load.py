# Copyright (c) mmsd contributors. All rights reserved.
"""Load weights into a module and fail loudly on any key or shape mismatch.

MMEngine's ``PretrainedInit`` loads with ``strict=False`` and only logs what
did not match; a teacher or an initial model that silently stays random ruins
a whole run, so mmsd checks every key itself.
"""
from fnmatch import fnmatch
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.logging import MMLogger
from torch import nn

from mmsd.converters.architecture import recorded_mismatches
from mmsd.utils import read_meta, read_state_dict, select_prefix


class CheckpointMismatchError(RuntimeError):
    """A checkpoint does not fit the module it is loaded into."""


def _listing(title: str, keys: List[str], limit: int = 10) -> str:
    shown = ', '.join(keys[:limit])
    more = f' (and {len(keys) - limit} more)' if len(keys) > limit else ''
    return f'\n  {title} ({len(keys)}): {shown}{more}'


def load_checked(module: nn.Module,
                 filename: str,
                 prefix: str = '',
                 what: str = 'checkpoint',
                 ignore_keys: Sequence[str] = (),
                 checkpoint: Optional[Dict[str, torch.Tensor]] = None) -> None:
    """Load ``filename`` (keys under ``prefix``) into ``module`` strictly.

    Args:
        module (nn.Module): The module to load into.
        filename (str): The checkpoint file.
        prefix (str): Prefix of the module's keys in the file, e.g.
            ``'backbone.'``. Defaults to ''.
        what (str): Name of the checkpoint in messages, e.g. ``'teacher'``.
            Defaults to 'checkpoint'.
        ignore_keys (Sequence[str]): ``fnmatch`` patterns of module keys that
            may be missing from, or extra in, the file. Defaults to ().
        checkpoint (dict, optional): The file's whole state dict, if the
            caller already read it (to load several parts from one read).
            Defaults to None: read ``filename``.

    Raises:
        CheckpointMismatchError: Listing missing, unexpected and mismatched
            keys, or, for files that record their architecture (converted or
            exported ViTs), the heads, LayerNorm eps etc. that differ.
    """
    if checkpoint is None:
        state_dict = read_state_dict(filename, prefix, what=what)
    else:
        state_dict = select_prefix(checkpoint, prefix,
                                   f'The {what} file {filename!r}')
    state_dict = check_state_dict(module, state_dict, filename, prefix, what,
                                  ignore_keys)
    differences = recorded_mismatches(module, read_meta(filename), prefix)
    if differences:
        raise CheckpointMismatchError(
            f'The {what} file {filename!r} (prefix {prefix!r}) records an '
            f'architecture {type(module).__name__} does not have (file vs '
            'model):\n  ' + '\n  '.join(differences) + '\nBuild the model '
            'with the --cfg-options tools/convert_checkpoint.py prints (its '
            '--config option checks a config).')
    module.load_state_dict(state_dict, strict=not ignore_keys)
    MMLogger.get_current_instance().info(
        f'Loaded {len(state_dict)} tensors of the {what} from {filename} '
        f'into {type(module).__name__} (all keys matched).')


def check_state_dict(
    module: nn.Module,
    state_dict: Dict[str, torch.Tensor],
    filename: str,
    prefix: str = '',
    what: str = 'checkpoint',
    ignore_keys: Sequence[str] = ()
) -> Dict[str, torch.Tensor]:
    """Check that ``state_dict`` fits ``module`` key by key and shape by
    shape; arguments as :func:`load_checked`, ``filename`` and ``prefix``
    are only named in the error.

    Returns:
        dict: The entries of ``state_dict`` that ``module`` has.

    Raises:
        CheckpointMismatchError: Listing missing, unexpected and mismatched
            keys.
    """
    expected = module.state_dict()

    def ignored(key: str) -> bool:
        return any(fnmatch(key, pattern) for pattern in ignore_keys)

    missing = [k for k in expected if k not in state_dict and not ignored(k)]
    unexpected = [
        k for k in state_dict if k not in expected and not ignored(k)
    ]
    mismatched = [
        f'{k} {tuple(v.shape)} in file vs {tuple(expected[k].shape)}'
        for k, v in state_dict.items()
        if k in expected and v.shape != expected[k].shape
    ]
    if missing or unexpected or mismatched:
        message = f'The {what} file {filename!r} (prefix {prefix!r}) does ' \
            f'not match {type(module).__name__}:'
        if missing:
            message += _listing('missing keys', missing)
        if unexpected:
            message += _listing('unexpected keys', unexpected)
        if mismatched:
            message += _listing('shape mismatches', mismatched)
        raise CheckpointMismatchError(message)
    return {k: v for k, v in state_dict.items() if k in expected}
