# Copyright (c) mmsd contributors. All rights reserved.
"""Reading a source checkpoint (a file or a Hugging Face / timm directory)
without running code from it, and writing converted ones."""
import dataclasses
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import torch

from mmsd.utils import atomic_save, load_checkpoint_file, unwrap_state_dict
from .architecture import ViTArchitecture

# Weight files of a Hugging Face / timm directory, in order of preference.
WEIGHT_FILES = ('model.safetensors', 'model.safetensors.index.json',
                'pytorch_model.bin', 'pytorch_model.bin.index.json',
                'open_clip_pytorch_model.bin')


@dataclasses.dataclass
class Source:
    """A checkpoint as read from disk.

    Args:
        path (str): The file or directory given.
        tensors (dict[str, Tensor]): Its tensors, wrapper removed.
        config (dict, optional): ``config.json`` of a directory.
        wrapper (str, optional): The key the tensors were under (``model``,
            ``state_dict``), if any.
        meta (dict): The ``meta`` of an MMEngine/mmsd checkpoint.
        files (list[str]): The weight files read.
    """
    path: str
    tensors: Dict[str, torch.Tensor]
    config: Optional[dict] = None
    wrapper: Optional[str] = None
    meta: dict = dataclasses.field(default_factory=dict)
    files: List[str] = dataclasses.field(default_factory=list)

    def name(self) -> str:
        return repr(self.path)


@dataclasses.dataclass
class Converted:
    """A checkpoint in MMPretrain's layout.

    Args:
        state_dict (dict[str, Tensor]): ``backbone.*`` and, with a decoder,
            ``neck.*`` tensors.
        architecture (ViTArchitecture): What they hold.
        format (str): The source format.
        source (str): The source path.
        dropped (list[str]): Source keys not kept, with the reason.
    """
    state_dict: Dict[str, torch.Tensor]
    architecture: ViTArchitecture
    format: str
    source: str
    dropped: List[str] = dataclasses.field(default_factory=list)

    def meta(self) -> dict:
        return dict(
            converted_from=self.format,
            source=self.source,
            architecture=self.architecture.to_dict(),
            dropped=list(self.dropped))


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        raise RuntimeError(f'Cannot read {path!r}: {err}') from err


def _read_tensors(path: str) -> Dict[str, torch.Tensor]:
    """The tensors of one weight file (or of the shards an index names)."""
    if path.endswith('.index.json'):
        weight_map = _read_json(path).get('weight_map', {})
        tensors = {}
        for shard in sorted(set(weight_map.values())):
            tensors.update(_read_tensors(osp.join(osp.dirname(path), shard)))
        return tensors
    return unwrap_state_dict(load_checkpoint_file(path, 'source'))


def read_source(path: str) -> Source:
    """Read a checkpoint file or a Hugging Face / timm directory.

    Files are read with ``safetensors`` or ``torch.load(weights_only=True)``
    (:func:`mmsd.utils.load_checkpoint_file`); a pickle that would run code
    is refused with an error naming the file.
    """
    if osp.isdir(path):
        config_path = osp.join(path, 'config.json')
        config = _read_json(config_path) if osp.isfile(config_path) else None
        for name in WEIGHT_FILES:
            weights = osp.join(path, name)
            if osp.isfile(weights):
                return Source(
                    path=path,
                    tensors=_read_tensors(weights),
                    config=config,
                    files=[weights])
        raise FileNotFoundError(
            f'The directory {path!r} holds none of the weight files '
            f'{list(WEIGHT_FILES)}; it has {sorted(os.listdir(path))[:20]}.')
    checkpoint = load_checkpoint_file(path, 'source')
    wrapper = next((key for key in ('state_dict', 'model')
                    if isinstance(checkpoint.get(key), dict)), None)
    tensors = checkpoint[wrapper] if wrapper else checkpoint
    meta = checkpoint.get('meta') if wrapper else None
    config = None
    sibling = osp.join(osp.dirname(path), 'config.json')
    if path.endswith('.safetensors') and osp.isfile(sibling):
        config = _read_json(sibling)
    return Source(
        path=path,
        tensors={
            k: v
            for k, v in tensors.items() if isinstance(v, torch.Tensor)
        },
        config=config,
        wrapper=wrapper,
        meta=meta if isinstance(meta, dict) else {},
        files=[path])


def save_converted(converted: Converted, dst: str) -> int:
    """Write a tensors-only MMPretrain checkpoint (``state_dict`` + a
    ``meta`` of plain values, the architecture among them), atomically.
    Returns the number of tensors."""
    state_dict = {
        key: value.detach().cpu().contiguous()
        for key, value in converted.state_dict.items()
    }
    atomic_save(dict(state_dict=state_dict, meta=converted.meta()), dst)
    return len(state_dict)
