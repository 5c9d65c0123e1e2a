# Copyright (c) mmsd contributors. All rights reserved.
"""Writing an mmsd encoder for MMPretrain, Hugging Face or timm."""
from collections import OrderedDict
from typing import Dict, Optional

import torch
from torch import nn

from mmsd.utils import save_backbone
from .architecture import ConversionError, ViTArchitecture
from .common import check_shapes
from .hf import write_hf
from .timm_vit import write_timm

EXPORT_FORMATS = ('mmpretrain', 'hf', 'timm')


def vit_architecture(
        backbone: nn.Module,
        neck: Optional[nn.Module] = None,
        head: Optional[nn.Module] = None) -> Optional[ViTArchitecture]:
    """The architecture of MMPretrain ViT modules; None for other backbones
    (e.g. a ResNet)."""
    from mmpretrain.models import MAEPretrainDecoder, VisionTransformer
    if not isinstance(backbone, VisionTransformer):
        return None
    if not isinstance(neck, MAEPretrainDecoder):
        neck = None
    return ViTArchitecture.from_modules(backbone, neck, head)


def export_encoder(state_dict: Dict[str, torch.Tensor],
                   architecture: Optional[ViTArchitecture],
                   dst: str,
                   fmt: str = 'mmpretrain',
                   with_decoder: bool = False,
                   meta: Optional[dict] = None) -> str:
    """Write an encoder (``backbone.*``; with ``with_decoder`` also the MAE
    decoder ``neck.*``) in ``fmt``.

    Args:
        state_dict (dict[str, Tensor]): MMPretrain-layout tensors.
        architecture (ViTArchitecture, optional): What they hold; needed
            for ``hf`` and ``timm``.
        dst (str): Output file (``mmpretrain``, ``timm`` ``.pth`` /
            ``.safetensors``) or directory (``hf``, ``timm``).
        fmt (str): One of ``'mmpretrain'``, ``'hf'``, ``'timm'``. Defaults to
            'mmpretrain'.
        with_decoder (bool): ``hf`` only: write ``ViTMAEForPreTraining``
            with the decoder. Defaults to False.
        meta (dict, optional): Extra ``meta`` of an ``mmpretrain`` file.

    Returns:
        str: How to load the result.
    """
    if fmt not in EXPORT_FORMATS:
        raise ConversionError(f'Unknown export format {fmt!r}; choose from '
                              f'{EXPORT_FORMATS}.')
    encoder = OrderedDict((k[len('backbone.'):], v)
                          for k, v in state_dict.items()
                          if k.startswith('backbone.'))
    if fmt == 'mmpretrain':
        meta = dict(meta or {})
        if architecture is not None:
            meta['architecture'] = architecture.replace(decoder=None).to_dict()
        count = save_backbone(encoder, dst, meta=meta)
        return (f'{count} tensors under backbone.*; load with '
                f'model.backbone_checkpoint={dst} (or init/teacher '
                'checkpoint)')
    if architecture is None:
        raise ConversionError(
            f'Exporting to {fmt} needs the architecture (heads, LayerNorm '
            'eps); pass the training config (--config).')
    if with_decoder and fmt != 'hf':
        raise ConversionError('--with-decoder is for --format hf only.')
    if with_decoder and not any(k.startswith('neck.') for k in state_dict):
        raise ConversionError('--with-decoder: the checkpoint holds no MAE '
                              'decoder (neck.*).')
    if not with_decoder:
        state_dict = OrderedDict(
            (k, v) for k, v in state_dict.items() if k.startswith('backbone.'))
        architecture = architecture.replace(decoder=None)
    check_shapes(state_dict, architecture, 'the encoder to export', fmt)
    if fmt == 'hf':
        initialised = write_hf(state_dict, architecture, dst, with_decoder)
        model = 'ViTMAEForPreTraining' if with_decoder else (
            'Dinov2Model' if architecture.layer_scale else 'ViTModel')
        note = (f'; {", ".join(initialised)} written at transformers\' '
                'initialisation (not part of the encoder)'
                if initialised else '')
        loader = ('AutoModelForPreTraining' if with_decoder else 'AutoModel')
        return (f'a {model} directory; load with transformers.{loader}'
                f'.from_pretrained({dst!r}){note}')
    name, kwargs = write_timm(state_dict, architecture, dst)
    if dst.endswith(('.pth', '.safetensors')):
        args = ', '.join(f'{k}={v!r}' for k, v in kwargs.items())
        return (f'a timm state dict; load with model = timm.create_model('
                f'{name!r}, pretrained=False, {args}); '
                'model.load_state_dict(<the file\'s tensors>)')
    return (f'a timm directory ({name}); load with timm.create_model('
            f"'local-dir:{dst}', pretrained=True)")
