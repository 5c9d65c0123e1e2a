# Copyright (c) mmsd contributors. All rights reserved.
"""MMPretrain / mmsd checkpoints (``backbone.*``, ``neck.*``): already in
the target layout; read to describe, check or export them."""
from collections import OrderedDict
from typing import Optional

import torch

from .architecture import ConversionError, ViTArchitecture
from .common import finish
from .source import Converted, Source
from .timm_vit import _architecture


def architecture_from_config(cfg, with_neck: bool = True) -> ViTArchitecture:
    """The architecture of a config's ``model.backbone`` (and ``neck``,
    ``head``), built on the meta device."""
    from mmpretrain.registry import MODELS
    model = cfg.model if hasattr(cfg, 'model') else cfg['model']
    modules = {}
    with torch.device('meta'):
        for part in ('backbone', 'neck', 'head'):
            part_cfg = model.get(part)
            if part_cfg is None or (part != 'backbone' and not with_neck):
                continue
            if part == 'neck' and part_cfg.get('type') != \
                    'MAEPretrainDecoder':
                continue
            if part == 'head' and part_cfg.get('type') != 'MAEPretrainHead':
                continue
            modules[part] = MODELS.build(part_cfg)
    return ViTArchitecture.from_modules(**modules)


def architecture_from_meta(meta: dict) -> Optional[ViTArchitecture]:
    """The architecture an mmsd checkpoint's ``meta`` records: written by
    the converter or ``ExportBackboneHook`` (``architecture``), or the
    config MMEngine saves with training checkpoints (``cfg``)."""
    if meta.get('architecture'):
        return ViTArchitecture.from_dict(meta['architecture'])
    if meta.get('cfg'):
        from mmengine.config import Config
        cfg = Config.fromstring(meta['cfg'], '.py')
        return architecture_from_config(cfg)
    return None


def read_mmpretrain(source: Source,
                    fmt: str = 'mmpretrain',
                    img_size: Optional[int] = None,
                    encoder_only: bool = False,
                    num_heads: Optional[int] = None,
                    decoder_num_heads: Optional[int] = None,
                    ln_eps: Optional[float] = None,
                    **unused) -> Converted:
    """Read an MMPretrain checkpoint: the encoder ``backbone.*`` and the MAE
    decoder ``neck.*``; other parts (a teacher, heads) are not kept."""
    state_dict = OrderedDict((k, v) for k, v in source.tensors.items()
                             if k.startswith(('backbone.', 'neck.')))
    prefixes = sorted({
        k.split('.')[0] + '.*'
        for k in source.tensors if k not in state_dict
    })
    dropped = [f'{p} (not the encoder or the MAE decoder)' for p in prefixes]
    has_decoder = 'neck.decoder_embed.weight' in state_dict
    if not has_decoder:
        state_dict = OrderedDict(
            (k, v) for k, v in state_dict.items() if k.startswith('backbone.'))
    architecture = architecture_from_meta(source.meta)
    if architecture is None:
        architecture = _architecture(state_dict, source, has_decoder,
                                     num_heads, decoder_num_heads, ln_eps)
    elif architecture.decoder is not None and not has_decoder:
        architecture = architecture.replace(decoder=None)
    elif architecture.decoder is None and has_decoder:
        raise ConversionError(
            f'{source.name()} holds a decoder (neck.*) its meta does not '
            'describe.')
    return finish(state_dict, architecture, source, fmt, dropped, img_size,
                  encoder_only)
