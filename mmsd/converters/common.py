# Copyright (c) mmsd contributors. All rights reserved.
"""Steps every reader shares: fusing q/k/v, checking the result against
MMPretrain's modules, and resizing the position embedding."""
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

from .architecture import ConversionError, ViTArchitecture
from .source import Converted, Source

# MMPretrain's names inside one transformer block (VisionTransformer's
# ``layers.N`` and MAEPretrainDecoder's ``decoder_blocks.N``).
QKV = 'attn.qkv.'
PARTS = ('q', 'k', 'v')


def listing(keys: List[str], limit: int = 12) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f' (and {len(keys) - limit} more)'
                    if len(keys) > limit else '')


def unknown_layout(source: Source, fmt: str, keys: List[str]) -> None:
    """Raise for keys a reader does not know, listing the keys seen."""
    from . import FORMATS
    raise ConversionError(
        f'{source.name()} is not a {fmt} checkpoint mmsd can read: it has '
        f'keys the {fmt} layout does not know: {listing(sorted(keys))}. '
        f'Keys seen ({len(source.tensors)}): '
        f'{listing(sorted(source.tensors))}. Known formats: '
        f'{", ".join(FORMATS)}.')


def fuse_qkv(parts: Dict[str, Dict[str, torch.Tensor]],
             name: str) -> Dict[str, torch.Tensor]:
    """Concatenate q, k and v (in that order, along the output dimension)
    into MMPretrain's ``attn.qkv``.

    Args:
        parts (dict): ``{'<block>.attn.qkv.weight': {'q': t, 'k': t, 'v':
            t}}``.
        name (str): The source, for messages.
    """
    fused = OrderedDict()
    for key, found in parts.items():
        missing = [part for part in PARTS if part not in found]
        if missing:
            raise ConversionError(
                f'{name} is a partial checkpoint: {key} lacks the '
                f'{"/".join(missing)} part(s) of attention.')
        fused[key] = torch.cat([found[part] for part in PARTS], dim=0)
    return fused


def split_qkv(tensor: torch.Tensor, part: str) -> torch.Tensor:
    """One of q, k, v of a fused ``attn.qkv`` tensor."""
    return tensor.chunk(3, dim=0)[PARTS.index(part)].clone()


def check_shapes(state_dict: Dict[str, torch.Tensor],
                 architecture: ViTArchitecture, name: str, fmt: str) -> None:
    """Compare converted keys and shapes with MMPretrain's modules built
    for ``architecture``; raise listing what is missing, extra or of the
    wrong shape."""
    expected = architecture.expected_shapes()
    missing = [key for key in expected if key not in state_dict]
    extra = [key for key in state_dict if key not in expected]
    wrong = [
        f'{key} {tuple(state_dict[key].shape)} vs {tuple(shape)}'
        for key, shape in expected.items()
        if key in state_dict and state_dict[key].shape != shape
    ]
    if missing or extra or wrong:
        message = (f'{name} ({fmt}) does not hold a complete ViT '
                   'of the architecture its configuration or shapes '
                   'describe:')
        if missing:
            message += f'\n  missing ({len(missing)}): {listing(missing)}'
        if extra:
            message += f'\n  unexpected ({len(extra)}): {listing(extra)}'
        if wrong:
            message += (f'\n  wrong shape (file vs expected) ({len(wrong)}):'
                        f' {listing(wrong)}')
        message += '\n  ' + '\n  '.join(architecture.describe())
        raise ConversionError(message)


def finish(state_dict: Dict[str, torch.Tensor],
           architecture: ViTArchitecture,
           source: Source,
           fmt: str,
           dropped: List[str],
           img_size: Optional[int] = None,
           encoder_only: bool = False) -> Converted:
    """Check the converted tensors, then drop the decoder if asked and
    resize the position embedding to ``img_size``."""
    check_shapes(state_dict, architecture, source.name(), fmt)
    if encoder_only and architecture.decoder is not None:
        dropped = dropped + ['neck.* (decoder; --encoder-only)']
        state_dict = OrderedDict(
            (k, v) for k, v in state_dict.items() if not k.startswith('neck.'))
        architecture = architecture.replace(decoder=None)
    if img_size is not None and img_size != architecture.img_size:
        state_dict, architecture = resize_grid(state_dict, architecture,
                                               img_size, source)
    return Converted(
        state_dict=OrderedDict(state_dict),
        architecture=architecture,
        format=fmt,
        source=source.path,
        dropped=dropped)


def resize_grid(state_dict: Dict[str,
                                 torch.Tensor], architecture: ViTArchitecture,
                img_size: int, source: Source) -> Tuple[dict, ViTArchitecture]:
    """Resize the encoder's position embedding to the patch grid of
    ``img_size``, as MMPretrain's ``VisionTransformer`` does when it loads
    a checkpoint of another size (its ``resize_pos_embed``, bicubic)."""
    from mmpretrain.models.utils import resize_pos_embed
    if img_size % architecture.patch_size:
        raise ConversionError(
            f'--img-size {img_size} is not a multiple of the patch size '
            f'{architecture.patch_size} of {source.name()}.')
    if architecture.decoder is not None:
        raise ConversionError(
            f'{source.name()} has an MAE decoder, whose fixed position '
            f'embedding is for {architecture.img_size} px '
            f'({architecture.grid}x{architecture.grid} patches) and cannot '
            f'be resized to {img_size} px. Convert at {architecture.img_size}'
            ' px, or keep the encoder only (--encoder-only).')
    new = architecture.replace(img_size=img_size)
    state_dict = OrderedDict(state_dict)
    state_dict['backbone.pos_embed'] = resize_pos_embed(
        state_dict['backbone.pos_embed'], (architecture.grid, ) * 2,
        (new.grid, ) * 2,
        mode='bicubic',
        num_extra_tokens=1)
    return state_dict, new
