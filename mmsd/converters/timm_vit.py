# Copyright (c) mmsd contributors. All rights reserved.
"""timm ``VisionTransformer`` state dicts and the official MAE ``.pth``
files (whose encoder is a timm ViT), both ways.

The renames are those of MMPretrain's ``deit3_to_mmpretrain.py``
(``blocks``->``layers``, ``norm1/2``->``ln1/2``, ``mlp.fc1/2``->
``ffn.layers.0.0/1``, ``patch_embed.proj``->``patch_embed.projection``,
``norm``->``ln1``), plus layer scale (``ls1.gamma`` in timm 0.9+,
``gamma_1`` before) and the MAE decoder of facebookresearch/mae
(``decoder_embed``, ``mask_token``, ``decoder_pos_embed``,
``decoder_blocks.N``, ``decoder_norm``, ``decoder_pred``). timm is imported
only to write.
"""
import math
import re
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch

from mmsd.utils import atomic_directory, atomic_save, atomic_write
from .architecture import (KNOWN_DECODER_HEADS, ConversionError,
                           DecoderArchitecture, ViTArchitecture,
                           heads_for_width)
from .common import finish, unknown_layout
from .source import Converted, Source

BLOCK_NAMES = (
    ('norm1.', 'ln1.'),
    ('attn.qkv.', 'attn.qkv.'),
    ('attn.proj.', 'attn.proj.'),
    ('ls1.gamma', 'attn.gamma1.weight'),
    ('gamma_1', 'attn.gamma1.weight'),
    ('norm2.', 'ln2.'),
    ('mlp.fc1.', 'ffn.layers.0.0.'),
    ('mlp.fc2.', 'ffn.layers.1.'),
    ('ls2.gamma', 'ffn.gamma2.weight'),
    ('gamma_2', 'ffn.gamma2.weight'),
)
BLOCKS = (('blocks.', 'backbone.layers.'), ('decoder_blocks.',
                                            'neck.decoder_blocks.'))
ENCODER_NAMES = (
    ('cls_token', 'backbone.cls_token'),
    ('pos_embed', 'backbone.pos_embed'),
    ('patch_embed.proj.', 'backbone.patch_embed.projection.'),
    ('norm.', 'backbone.ln1.'),
)
DECODER_NAMES = (
    ('decoder_embed.', 'neck.decoder_embed.'),
    ('mask_token', 'neck.mask_token'),
    ('decoder_pos_embed', 'neck.decoder_pos_embed'),
    ('decoder_norm.', 'neck.ln1.'),
    ('decoder_pred.', 'neck.decoder_pred.'),
)
NOT_KEPT = (('head.', 'classification head'),
            ('mask_token', 'DINOv2 mask token (no decoder in the file)'))
# timm ViT parts mmsd's ViT does not have: converting without them would
# change the model.
UNSUPPORTED = {
    'fc_norm.': 'a LayerNorm after average pooling (fine-tuned with '
    'global_pool); MMPretrain ViTs normalise the tokens instead',
    'norm_pre.': 'a LayerNorm before the blocks (CLIP style)',
    'reg_token': 'register tokens',
    'register_tokens': 'register tokens',
    'dist_token': 'a distillation token (DeiT)',
    'attn.q_norm.': 'q/k normalisation',
    'mlp.w12.': 'a SwiGLU MLP',
    'attn_pool.': 'attention pooling',
}


def _rename(key: str, decoder: bool) -> Tuple[Optional[str], Optional[str]]:
    """MMPretrain key of a timm / official MAE key; ``(None, reason)`` for
    keys not kept, ``(None, None)`` for unknown ones."""
    for timm_block, mm_block in BLOCKS:
        match = re.match(rf'^{re.escape(timm_block)}(\d+)\.(.+)$', key)
        if match:
            index, rest = match.groups()
            for timm_name, mm_name in BLOCK_NAMES:
                if rest.startswith(timm_name) and (timm_name.endswith('.')
                                                   or rest == timm_name):
                    return (f'{mm_block}{index}.{mm_name}'
                            f'{rest[len(timm_name):]}', None)
            return None, None
    names = ENCODER_NAMES + (DECODER_NAMES if decoder else ())
    for timm_name, mm_name in names:
        if key == timm_name or (timm_name.endswith('.')
                                and key.startswith(timm_name)):
            return mm_name + key[len(timm_name):], None
    for timm_name, reason in NOT_KEPT:
        if key.startswith(timm_name):
            return None, reason
    return None, None


def _timm_facts(config: Optional[dict]) -> Tuple[Optional[int], float]:
    """Heads and LayerNorm eps of a timm hub directory's model, from timm
    itself (built on the meta device), if the directory names one."""
    if not config or 'architecture' not in config:
        return None, None
    import timm
    with torch.device('meta'):
        model = timm.create_model(
            config['architecture'],
            pretrained=False,
            num_classes=0,
            **config.get('model_args', {}))
    return model.blocks[0].attn.num_heads, model.norm.eps


def read_timm(source: Source,
              fmt: str,
              img_size: Optional[int] = None,
              encoder_only: bool = False,
              num_heads: Optional[int] = None,
              decoder_num_heads: Optional[int] = None,
              ln_eps: Optional[float] = None,
              **unused) -> Converted:
    """Convert a timm ViT state dict or an official MAE ``.pth``.

    These files do not store the number of heads or the LayerNorm eps:
    heads come from ``num_heads`` or the published models of that width,
    eps from ``ln_eps`` or 1e-6 (timm, MAE and DINOv2 all use it).

    Args:
        source (Source): The file, read.
        fmt (str): ``'timm-vit'`` or ``'mae-official'``.
        img_size (int, optional): Resize the position embedding to this
            image size. Defaults to None: keep the source's.
        encoder_only (bool): Drop an MAE decoder. Defaults to False.
        num_heads (int, optional): Encoder heads. Defaults to None.
        decoder_num_heads (int, optional): Decoder heads. Defaults to None.
        ln_eps (float, optional): LayerNorm eps. Defaults to None.
    """
    tensors = source.tensors
    for name, what in UNSUPPORTED.items():
        found = [key for key in tensors if name in key]
        if found:
            raise ConversionError(
                f'{source.name()} has {found[0]}: {what}. mmsd converts '
                'plain ViTs (class token, absolute position embedding, '
                'pre-norm blocks with a GELU MLP, final LayerNorm).')
    decoder = 'decoder_embed.weight' in tensors
    state_dict, dropped, unknown = OrderedDict(), [], []
    for key, tensor in tensors.items():
        mm_key, reason = _rename(key, decoder)
        if mm_key is None:
            (dropped if reason else
             unknown).append(f'{key} ({reason})' if reason else key)
        else:
            state_dict[mm_key] = tensor
    if unknown:
        unknown_layout(source, fmt, unknown)
    architecture = _architecture(state_dict, source, decoder, num_heads,
                                 decoder_num_heads, ln_eps)
    return finish(state_dict, architecture, source, fmt, dropped, img_size,
                  encoder_only)


def _architecture(state_dict: Dict[str, torch.Tensor], source: Source,
                  decoder: bool, num_heads: Optional[int],
                  decoder_num_heads: Optional[int],
                  ln_eps: Optional[float]) -> ViTArchitecture:
    """The architecture the tensor shapes show, heads and eps aside."""
    required = ('backbone.cls_token', 'backbone.pos_embed',
                'backbone.patch_embed.projection.weight',
                'backbone.layers.0.ffn.layers.0.0.weight')
    missing = [key for key in required if key not in state_dict]
    if missing:
        raise ConversionError(
            f'{source.name()} is a partial ViT checkpoint: no '
            f'{missing} (MMPretrain names). Keys seen: '
            f'{sorted(source.tensors)[:20]}.')
    projection = state_dict['backbone.patch_embed.projection.weight']
    width, in_channels, patch = projection.shape[:3]
    tokens = state_dict['backbone.pos_embed'].shape[1] - 1
    grid = math.isqrt(tokens)
    if grid * grid != tokens:
        raise ConversionError(
            f'{source.name()}: pos_embed has {tokens + 1} positions, not a '
            'class token plus a square grid (timm models with '
            'no_embed_class are not supported).')
    assumed = []
    hub_heads, hub_eps = _timm_facts(source.config)
    if num_heads is None and hub_heads is not None:
        num_heads = hub_heads
    heads, guessed = heads_for_width(width, num_heads, source.name())
    if guessed:
        assumed.append('num_heads')
    if ln_eps is None:
        ln_eps = hub_eps
    if ln_eps is None:
        ln_eps = 1e-6
        assumed.append('ln_eps')

    def depth(prefix):
        return len({
            key.split('.')[2]
            for key in state_dict if key.startswith(prefix)
        })

    decoder_arch = None
    if decoder:
        embed = state_dict['neck.decoder_embed.weight'].shape[0]
        dec_heads, guessed = heads_for_width(embed, decoder_num_heads,
                                             source.name(),
                                             '--decoder-num-heads',
                                             KNOWN_DECODER_HEADS)
        if guessed:
            assumed.append('decoder_num_heads')
        decoder_arch = DecoderArchitecture(
            embed_dims=embed,
            num_layers=depth('neck.decoder_blocks.'),
            num_heads=dec_heads,
            feedforward_channels=state_dict[
                'neck.decoder_blocks.0.ffn.layers.0.0.weight'].shape[0],
            ln_eps=ln_eps,
            out_channels=state_dict['neck.decoder_pred.weight'].shape[0])
    return ViTArchitecture(
        patch_size=patch,
        img_size=grid * patch,
        embed_dims=width,
        num_layers=depth('backbone.layers.'),
        num_heads=heads,
        feedforward_channels=state_dict[
            'backbone.layers.0.ffn.layers.0.0.weight'].shape[0],
        ln_eps=ln_eps,
        qkv_bias='backbone.layers.0.attn.qkv.bias' in state_dict,
        layer_scale='backbone.layers.0.attn.gamma1.weight' in state_dict,
        in_channels=in_channels,
        decoder=decoder_arch,
        assumed=tuple(assumed))


# Writing -------------------------------------------------------------------

TIMM_NAMES = {
    192: 'tiny',
    384: 'small',
    768: 'base',
    1024: 'large',
    1280: 'huge',
    1536: 'giant'
}


def timm_model(architecture: ViTArchitecture) -> Tuple[str, dict]:
    """A timm model name and the ``create_model`` arguments that build this
    encoder without a head."""
    import timm
    arch = architecture
    size = TIMM_NAMES.get(arch.embed_dims, 'base')
    # The closest registered name; the arguments make the model exact.
    candidates = (f'vit_{size}_patch{arch.patch_size}_{arch.img_size}',
                  f'vit_{size}_patch16_224', 'vit_base_patch16_224')
    name = next(name for name in candidates if timm.is_model(name))
    ratio = arch.feedforward_channels / arch.embed_dims
    if int(arch.embed_dims * ratio) != arch.feedforward_channels:
        raise ConversionError(
            f'timm builds MLPs of int(width * mlp_ratio) channels; '
            f'{arch.feedforward_channels} is not reachable from width '
            f'{arch.embed_dims}.')
    kwargs = dict(
        img_size=arch.img_size,
        patch_size=arch.patch_size,
        in_chans=arch.in_channels,
        embed_dim=arch.embed_dims,
        depth=arch.num_layers,
        num_heads=arch.num_heads,
        mlp_ratio=ratio,
        qkv_bias=arch.qkv_bias,
        num_classes=0,
        global_pool='token')
    if arch.layer_scale:
        kwargs['init_values'] = 1e-5  # creates the scales; the file sets them
    return name, kwargs


def timm_state_dict(
        state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The encoder (``backbone.*``) under timm's names."""
    inverse_blocks = [(mm, timm) for timm, mm in BLOCK_NAMES
                      if not timm.startswith('gamma_')]
    inverse = [(mm, timm) for timm, mm in ENCODER_NAMES]
    result = OrderedDict()
    for key, value in state_dict.items():
        if not key.startswith('backbone.'):
            continue
        match = re.match(r'^backbone\.layers\.(\d+)\.(.+)$', key)
        if match:
            index, rest = match.groups()
            name = next(f'blocks.{index}.{timm}{rest[len(mm):]}'
                        for mm, timm in inverse_blocks if rest.startswith(mm))
        else:
            name = next(timm + key[len(mm):] for mm, timm in inverse
                        if key == mm or key.startswith(mm))
        result[name] = value
    return result


def write_timm(state_dict: Dict[str, torch.Tensor],
               architecture: ViTArchitecture, dst: str) -> Tuple[str, dict]:
    """Write the encoder for timm and check that timm loads it strictly.

    ``dst`` ending in ``.pth`` or ``.safetensors`` gets a bare state dict;
    any other ``dst`` becomes a directory that
    ``timm.create_model('local-dir:DST', pretrained=True)`` loads (timm's
    ``save_for_hf``: ``config.json`` + ``model.safetensors``).

    Returns:
        tuple[str, dict]: The timm model name and ``create_model``
        arguments that build the matching model.
    """
    import timm
    name, kwargs = timm_model(architecture)
    if architecture.ln_eps != 1e-6:
        raise ConversionError(
            f'timm ViTs use LayerNorm eps 1e-6; this encoder uses '
            f'{architecture.ln_eps:g}. Export it with --format hf, or '
            'train it with model.backbone.norm_cfg.eps=1e-6.')
    model = timm.create_model(name, pretrained=False, **kwargs)
    tensors = timm_state_dict(state_dict)
    model.load_state_dict(tensors, strict=True)
    if dst.endswith('.safetensors'):
        from safetensors.torch import save
        with atomic_write(dst) as f:
            f.write(save(model.state_dict()))
    elif dst.endswith('.pth'):
        atomic_save(model.state_dict(), dst)
    else:
        from timm.models import save_for_hf
        with atomic_directory(dst) as tmp:
            save_for_hf(
                model,
                tmp,
                model_args={
                    k: v
                    for k, v in kwargs.items() if k != 'num_classes'
                },
                safe_serialization=True)
    return name, kwargs
