# Copyright (c) mmsd contributors. All rights reserved.
"""Which format a checkpoint is in, and the reader for each format."""
from collections import OrderedDict
from typing import Optional

from .architecture import ConversionError
from .common import listing
from .hf import MODEL_TYPES, read_hf
from .mmpretrain_format import read_mmpretrain
from .source import Converted, Source, read_source
from .timm_vit import read_timm

# Format name -> (description, reader).
FORMATS = OrderedDict([
    ('hf-vitmae', ('Hugging Face ViTMAEForPreTraining / ViTMAEModel '
                   'directory (config.json + model.safetensors or '
                   'pytorch_model.bin)', read_hf)),
    ('hf-vit', ('Hugging Face ViTModel / ViTForImageClassification '
                'directory', read_hf)),
    ('hf-dinov2', ('Hugging Face Dinov2Model directory', read_hf)),
    ('mae-official', ('facebookresearch/mae .pth (model key; mae_visualize_* '
                      'with the decoder, mae_pretrain_* encoder only)',
                      read_timm)),
    ('timm-vit', ('timm VisionTransformer state dict (.pth, .safetensors or '
                  'a timm hub directory; also official DINOv2 .pth)',
                  read_timm)),
    ('mmpretrain', ('MMPretrain / mmsd checkpoint (backbone.*, neck.*)',
                    read_mmpretrain)),
])


def detect_format(source: Source) -> str:
    """The format of a read checkpoint, from its ``config.json`` or keys.

    Raises:
        ConversionError: For an unknown layout, listing the keys seen and
            the formats known.
    """
    keys = source.tensors
    config = source.config or {}
    by_type = {v: k for k, v in MODEL_TYPES.items()}
    if config.get('model_type') in by_type:
        return by_type[config['model_type']]
    if any(k.startswith(('backbone.', 'neck.')) for k in keys):
        return 'mmpretrain'
    if 'blocks.0.attn.qkv.weight' in keys or 'architecture' in config:
        if 'decoder_embed.weight' in keys or source.wrapper == 'model':
            return 'mae-official'
        return 'timm-vit'
    hf_like = [
        k for k in keys if k.startswith(('vit.', 'dinov2.', 'embeddings.',
                                         'encoder.layer.', 'layers.'))
    ]
    if hf_like:
        raise ConversionError(
            f'{source.name()} looks like Hugging Face weights '
            f'({hf_like[0]}) without a config.json naming a model_type '
            f'mmsd converts ({", ".join(by_type)}); found config '
            f'model_type={config.get("model_type")!r}. Pass the model '
            'directory holding config.json.')
    raise ConversionError(
        f'{source.name()} is in no format mmsd knows. Keys seen '
        f'({len(keys)}): {listing(sorted(keys))}. Known formats: ' +
        '; '.join(f'{name}: {text}'
                  for name, (text, _) in FORMATS.items()) + '.')


def convert(path: str,
            fmt: Optional[str] = None,
            img_size: Optional[int] = None,
            encoder_only: bool = False,
            num_heads: Optional[int] = None,
            decoder_num_heads: Optional[int] = None,
            ln_eps: Optional[float] = None) -> Converted:
    """Read ``path`` and convert it to MMPretrain's layout.

    Args:
        path (str): A checkpoint file or a Hugging Face / timm directory.
        fmt (str, optional): One of :data:`FORMATS`. Defaults to None:
            detect it.
        img_size (int, optional): Resize the encoder's position embedding
            to this image size (MMPretrain's bicubic ``resize_pos_embed``).
            Defaults to None: keep the source's.
        encoder_only (bool): Drop an MAE decoder. Defaults to False.
        num_heads (int, optional): Encoder heads, for files that do not
            store them. Defaults to None.
        decoder_num_heads (int, optional): Decoder heads, likewise.
            Defaults to None.
        ln_eps (float, optional): LayerNorm eps, likewise. Defaults to
            None.
    """
    if fmt is not None and fmt not in FORMATS:
        raise ConversionError(f'Unknown format {fmt!r}; known formats: '
                              f'{", ".join(FORMATS)}.')
    source = read_source(path)
    fmt = fmt or detect_format(source)
    reader = FORMATS[fmt][1]
    return reader(
        source,
        fmt=fmt,
        img_size=img_size,
        encoder_only=encoder_only,
        num_heads=num_heads,
        decoder_num_heads=decoder_num_heads,
        ln_eps=ln_eps)
