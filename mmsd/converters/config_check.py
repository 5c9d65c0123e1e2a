# Copyright (c) mmsd contributors. All rights reserved.
"""Check, before any training, that a converted checkpoint fits a config."""
from typing import List

from mmengine.config import Config

from mmsd.utils import load_checkpoint_file, unwrap_state_dict
from .architecture import ConversionError, ViTArchitecture, format_options

# Model arguments naming files the check must not load.
CHECKPOINT_ARGS = ('init_checkpoint', 'teacher_checkpoint',
                   'backbone_checkpoint')


def _mae_neck(model):
    from mmpretrain.models import MAEPretrainDecoder
    neck = getattr(model, 'neck', None)
    return neck if isinstance(neck, MAEPretrainDecoder) else None


def check_against_config(dst: str, cfg: Config) -> List[str]:
    """Build ``cfg``'s model and load ``dst`` into it with mmsd's checked
    (strict) loading.

    The architecture ``dst`` records is compared first (heads and LayerNorm
    eps leave no trace in key names or shapes), then every key and shape.

    Args:
        dst (str): A checkpoint written by the converter.
        cfg (Config): The config to train with (``--cfg-options`` merged).

    Returns:
        list[str]: What was checked, for printing.

    Raises:
        ConversionError: If the architecture differs; the message names
            the file, each differing value and the options to set.
        CheckpointMismatchError: If keys or shapes differ.
    """
    from mmpretrain.registry import MODELS

    import mmsd  # noqa: F401  (registers mmsd's models)
    from mmsd.models import load_checked
    checkpoint = load_checkpoint_file(dst, 'converted')
    state_dict = unwrap_state_dict(checkpoint)
    meta = checkpoint.get('meta') or {}
    model_cfg = cfg.model.copy()
    for key in CHECKPOINT_ARGS:
        if key in model_cfg:
            model_cfg[key] = None
    model = MODELS.build(model_cfg)
    neck = _mae_neck(model)
    found = ViTArchitecture.from_modules(model.backbone, neck,
                                         getattr(model, 'head', None))
    config_name = cfg.filename or 'the config'
    has_decoder = any(key.startswith('neck.') for key in state_dict)
    if meta.get('architecture'):
        stored = ViTArchitecture.from_dict(meta['architecture'])
        differences = stored.mismatches(found)
        if differences:
            kind = 'mae' if neck is not None else 'classifier'
            raise ConversionError(
                f'{dst!r} does not fit the model of {config_name} '
                '(file vs config):\n  ' + '\n  '.join(differences) +
                '\nBuild the model for it with --cfg-options ' +
                format_options(stored.options_for(found, kind)))
    lines = []
    load_checked(
        model.backbone,
        dst,
        'backbone.',
        what='converted',
        checkpoint=state_dict)
    count = sum(key.startswith('backbone.') for key in state_dict)
    lines.append(f'backbone: all {count} tensors loaded strictly into '
                 f'{type(model.backbone).__name__}')
    if neck is not None and has_decoder:
        load_checked(
            neck, dst, 'neck.', what='converted', checkpoint=state_dict)
        count = sum(key.startswith('neck.') for key in state_dict)
        lines.append(f'neck: all {count} tensors loaded strictly into '
                     f'{type(neck).__name__}')
    elif neck is not None:
        lines.append('neck: not in the file; an MAE run initialises the '
                     "decoder from the config's seed (and restarts stage 2 "
                     'from that same initialisation)')
    elif has_decoder:
        lines.append(f'neck: in the file, unused by {type(model).__name__}')
    return [f'{config_name} ({type(model).__name__}):'] + lines
