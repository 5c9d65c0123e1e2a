# Copyright (c) mmsd contributors. All rights reserved.
"""Hugging Face ``ViTMAEForPreTraining``/``ViTMAEModel``, ``ViTModel`` and
``Dinov2Model`` directories, both ways.

Key names differ by writer: transformers 4 (the hub files) writes
``encoder.layer.N.attention.attention.query`` and
``decoder.decoder_layers.N...``; transformers 5 holds
``layers.N.attention.q_proj`` / ``mlp.fc1`` in memory, and its
``save_pretrained`` writes the encoder as transformers 4 did but the decoder
as ``decoder.decoder_encoder.layer.N...``. :func:`mmpretrain_key` reads all
of them. Directories are read with ``json`` and ``safetensors`` (or a safe
``torch.load``); transformers is imported only to write.
"""
import re
from collections import OrderedDict, defaultdict
from typing import Dict, List, Optional, Tuple

import torch

from mmsd.utils import atomic_directory
from .architecture import ConversionError, DecoderArchitecture, ViTArchitecture
from .common import QKV, finish, fuse_qkv, split_qkv, unknown_layout
from .source import Converted, Source

# Per block: HF name -> (MMPretrain name, q/k/v part). Longest names first,
# so that ``attention.output.dense`` is not taken for ``output.dense``.
BLOCK_NAMES = (
    ('attention.attention.query.', QKV, 'q'),
    ('attention.attention.key.', QKV, 'k'),
    ('attention.attention.value.', QKV, 'v'),
    ('attention.output.dense.', 'attn.proj.', None),
    ('attention.q_proj.', QKV, 'q'),
    ('attention.k_proj.', QKV, 'k'),
    ('attention.v_proj.', QKV, 'v'),
    ('attention.o_proj.', 'attn.proj.', None),
    ('layernorm_before.', 'ln1.', None),
    ('layernorm_after.', 'ln2.', None),
    ('intermediate.dense.', 'ffn.layers.0.0.', None),
    ('output.dense.', 'ffn.layers.1.', None),
    ('norm1.', 'ln1.', None),
    ('norm2.', 'ln2.', None),
    ('mlp.fc1.', 'ffn.layers.0.0.', None),
    ('mlp.fc2.', 'ffn.layers.1.', None),
    ('layer_scale1.lambda1', 'attn.gamma1.weight', None),
    ('layer_scale2.lambda1', 'ffn.gamma2.weight', None),
)
ENCODER_BLOCK = re.compile(r'^(?:encoder\.layer|layers)\.(\d+)\.(.+)$')
DECODER_BLOCK = re.compile(
    r'^decoder\.(?:decoder_layers|decoder_encoder\.layer)\.(\d+)\.(.+)$')
OTHER_NAMES = (
    ('embeddings.cls_token', 'backbone.cls_token'),
    ('embeddings.position_embeddings', 'backbone.pos_embed'),
    ('embeddings.patch_embeddings.projection.',
     'backbone.patch_embed.projection.'),
    ('layernorm.', 'backbone.ln1.'),
    ('decoder.decoder_embed.', 'neck.decoder_embed.'),
    ('decoder.mask_token', 'neck.mask_token'),
    ('decoder.decoder_pos_embed', 'neck.decoder_pos_embed'),
    ('decoder.decoder_norm.', 'neck.ln1.'),
    ('decoder.decoder_pred.', 'neck.decoder_pred.'),
)
# Parts of HF models that are not the encoder or the MAE decoder.
NOT_KEPT = (('pooler.', 'pooler (not part of the encoder)'),
            ('embeddings.mask_token',
             'mask token of masked-image-modelling heads'),
            ('classifier.', 'classification head'))
MODEL_PREFIXES = ('vit.', 'dinov2.')

# transformers' defaults for fields a config.json may leave out (checked
# against transformers' config classes in the tests).
_VIT_DEFAULTS = dict(
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    hidden_act='gelu',
    layer_norm_eps=1e-12,
    image_size=224,
    patch_size=16,
    num_channels=3,
    qkv_bias=True)
DEFAULTS = dict(
    vit=_VIT_DEFAULTS,
    vit_mae=dict(
        _VIT_DEFAULTS,
        decoder_num_attention_heads=16,
        decoder_hidden_size=512,
        decoder_num_hidden_layers=8,
        decoder_intermediate_size=2048,
        mask_ratio=0.75,
        norm_pix_loss=False),
    dinov2=dict(
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        mlp_ratio=4,
        hidden_act='gelu',
        layer_norm_eps=1e-6,
        image_size=224,
        patch_size=14,
        num_channels=3,
        qkv_bias=True,
        use_swiglu_ffn=False),
)
MODEL_TYPES = {'hf-vitmae': 'vit_mae', 'hf-vit': 'vit', 'hf-dinov2': 'dinov2'}


def mmpretrain_key(key: str) -> Tuple[Optional[str], Optional[str]]:
    """MMPretrain key and q/k/v part of a Hugging Face ViT/ViTMAE/DINOv2 key
    (any writer's names); ``(None, reason)`` for parts that are not kept,
    ``(None, None)`` for unknown keys."""
    for prefix in MODEL_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    for pattern, block in ((ENCODER_BLOCK, 'backbone.layers'),
                           (DECODER_BLOCK, 'neck.decoder_blocks')):
        match = pattern.match(key)
        if match:
            index, rest = match.groups()
            for hf_name, mm_name, part in BLOCK_NAMES:
                if rest.startswith(hf_name) and (hf_name.endswith('.')
                                                 or rest == hf_name):
                    return (f'{block}.{index}.{mm_name}'
                            f'{rest[len(hf_name):]}', part)
            return None, None
    for hf_name, mm_name in OTHER_NAMES:
        if key == hf_name or (hf_name.endswith('.')
                              and key.startswith(hf_name)):
            return mm_name + key[len(hf_name):], None
    for hf_name, reason in NOT_KEPT:
        if key.startswith(hf_name):
            return None, reason
    return None, None


def _config_value(config: dict, model_type: str, name: str, source: Source):
    if name in config:
        return config[name]
    if name in DEFAULTS[model_type]:
        return DEFAULTS[model_type][name]
    raise ConversionError(f'{source.name()}: config.json lacks {name!r}.')


def _square(value, name: str, source: Source) -> int:
    if isinstance(value, (list, tuple)):
        if len(set(value)) != 1:
            raise ConversionError(
                f'{source.name()}: config.json has {name}={value!r}; mmsd '
                'converts square images and patches only.')
        value = value[0]
    return int(value)


def architecture_from_config(source: Source, fmt: str) -> ViTArchitecture:
    """The architecture a Hugging Face ``config.json`` describes."""
    config = source.config
    model_type = MODEL_TYPES[fmt]
    if config is None:
        raise ConversionError(
            f'{source.name()}: Hugging Face weights need their config.json '
            '(it holds the number of heads and the LayerNorm eps); pass the '
            'directory that holds both.')
    if config.get('model_type') != model_type:
        guess = {
            v: k
            for k, v in MODEL_TYPES.items()
        }.get(config.get('model_type'))
        hint = f' (use --format {guess})' if guess else ''
        raise ConversionError(
            f'{source.name()}: config.json has model_type='
            f'{config.get("model_type")!r}, not {model_type!r} as the '
            f'{fmt} format needs{hint}.')

    def value(name):
        return _config_value(config, model_type, name, source)

    if value('hidden_act') != 'gelu':
        raise ConversionError(
            f'{source.name()}: config.json has hidden_act='
            f'{value("hidden_act")!r}; MMPretrain ViTs use exact GELU '
            "('gelu').")
    if model_type == 'dinov2' and value('use_swiglu_ffn'):
        raise ConversionError(
            f'{source.name()}: config.json has use_swiglu_ffn=true (DINOv2 '
            'giant); mmsd converts DINOv2 models with a plain MLP.')
    width = int(value('hidden_size'))
    if model_type == 'dinov2':
        ffn = int(width * value('mlp_ratio'))
    else:
        ffn = int(value('intermediate_size'))
    decoder = None
    if model_type == 'vit_mae':
        decoder = DecoderArchitecture(
            embed_dims=int(value('decoder_hidden_size')),
            num_layers=int(value('decoder_num_hidden_layers')),
            num_heads=int(value('decoder_num_attention_heads')),
            feedforward_channels=int(value('decoder_intermediate_size')),
            ln_eps=float(value('layer_norm_eps')))
    return ViTArchitecture(
        patch_size=_square(value('patch_size'), 'patch_size', source),
        img_size=_square(value('image_size'), 'image_size', source),
        embed_dims=width,
        num_layers=int(value('num_hidden_layers')),
        num_heads=int(value('num_attention_heads')),
        feedforward_channels=ffn,
        ln_eps=float(value('layer_norm_eps')),
        qkv_bias=bool(value('qkv_bias')),
        layer_scale=model_type == 'dinov2',
        in_channels=int(value('num_channels')),
        decoder=decoder,
        mask_ratio=value('mask_ratio') if decoder else None,
        norm_pix=value('norm_pix_loss') if decoder else None)


def read_hf(source: Source,
            fmt: str,
            img_size: Optional[int] = None,
            encoder_only: bool = False,
            **unused) -> Converted:
    """Convert a Hugging Face ViT / ViTMAE / DINOv2 directory.

    Args:
        source (Source): The directory, read.
        fmt (str): ``'hf-vitmae'``, ``'hf-vit'`` or ``'hf-dinov2'``.
        img_size (int, optional): Resize the position embedding to this
            image size. Defaults to None: keep the source's.
        encoder_only (bool): Drop an MAE decoder. Defaults to False.
    """
    architecture = architecture_from_config(source, fmt)
    state_dict = OrderedDict()
    parts = defaultdict(dict)
    unknown, dropped = [], []
    for key, tensor in source.tensors.items():
        mm_key, part = mmpretrain_key(key)
        if mm_key is None:
            (dropped
             if part else unknown).append(f'{key} ({part})' if part else key)
        elif part in ('q', 'k', 'v'):
            parts[mm_key][part] = tensor
        else:
            state_dict[mm_key] = tensor
    if unknown:
        unknown_layout(source, fmt, unknown)
    has_decoder = any(k.startswith('neck.') for k in state_dict) or any(
        k.startswith('neck.') for k in parts)
    if architecture.decoder is not None and not has_decoder:
        # A ViTMAEModel (encoder only).
        architecture = architecture.replace(decoder=None)
    state_dict.update(fuse_qkv(parts, source.name()))
    return finish(state_dict, architecture, source, fmt, dropped, img_size,
                  encoder_only)


# Writing -------------------------------------------------------------------


def _hf_state_dict(model: torch.nn.Module,
                   state_dict: Dict[str, torch.Tensor]) -> Tuple[dict, list]:
    """The tensors of ``state_dict`` (MMPretrain keys) under the names of
    ``model`` (whatever transformers version built it), and the model's
    keys left without a value."""
    tensors, left = OrderedDict(), []
    for key, target in model.state_dict().items():
        mm_key, part = mmpretrain_key(key)
        if mm_key is None or mm_key not in state_dict:
            left.append(key)
            continue
        value = state_dict[mm_key]
        if part in ('q', 'k', 'v'):
            value = split_qkv(value, part)
        if value.shape != target.shape:
            raise ConversionError(
                f'{mm_key} {tuple(value.shape)} does not fit {key} '
                f'{tuple(target.shape)} of {type(model).__name__}.')
        tensors[key] = value.to(target.dtype)
    return tensors, left


def hf_config(architecture: ViTArchitecture, with_decoder: bool):
    """The transformers config for an architecture: ``Dinov2Config`` with
    layer scale, ``ViTMAEConfig`` with the decoder, else ``ViTConfig``."""
    import transformers
    arch = architecture
    common = dict(
        hidden_size=arch.embed_dims,
        num_hidden_layers=arch.num_layers,
        num_attention_heads=arch.num_heads,
        hidden_act='gelu',
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        layer_norm_eps=arch.ln_eps,
        image_size=arch.img_size,
        patch_size=arch.patch_size,
        num_channels=arch.in_channels,
        qkv_bias=arch.qkv_bias)
    if arch.layer_scale:
        if with_decoder:
            raise ConversionError(
                'transformers has no MAE model with layer scale; export the '
                'encoder alone (without --with-decoder).')
        if arch.feedforward_channels % arch.embed_dims:
            raise ConversionError(
                f'Dinov2Config needs an integer MLP ratio; this encoder has '
                f'{arch.feedforward_channels}/{arch.embed_dims}.')
        return transformers.Dinov2Config(
            mlp_ratio=arch.feedforward_channels // arch.embed_dims,
            layerscale_value=1.0,
            use_swiglu_ffn=False,
            architectures=['Dinov2Model'],
            **common)
    common['intermediate_size'] = arch.feedforward_channels
    if not with_decoder:
        return transformers.ViTConfig(architectures=['ViTModel'], **common)
    decoder = arch.decoder
    if decoder is None:
        raise ConversionError('--with-decoder: the checkpoint holds no MAE '
                              'decoder (neck.*).')
    if decoder.ln_eps != arch.ln_eps:
        raise ConversionError(
            f'ViTMAEConfig has one LayerNorm eps; the encoder uses '
            f'{arch.ln_eps:g} and the decoder {decoder.ln_eps:g}.')
    if decoder.out_channels != arch.patch_size**2 * arch.in_channels:
        raise ConversionError(
            f'ViTMAEForPreTraining predicts patch² x channels pixels; this '
            f'decoder predicts {decoder.out_channels}.')
    return transformers.ViTMAEConfig(
        decoder_hidden_size=decoder.embed_dims,
        decoder_num_hidden_layers=decoder.num_layers,
        decoder_num_attention_heads=decoder.num_heads,
        decoder_intermediate_size=decoder.feedforward_channels,
        mask_ratio=0.75 if arch.mask_ratio is None else arch.mask_ratio,
        norm_pix_loss=True if arch.norm_pix is None else arch.norm_pix,
        architectures=['ViTMAEForPreTraining'],
        **common)


def write_hf(state_dict: Dict[str, torch.Tensor],
             architecture: ViTArchitecture,
             dst: str,
             with_decoder: bool = False) -> List[str]:
    """Write a Hugging Face directory with ``save_pretrained``.

    The encoder becomes a ``ViTModel`` (a ``Dinov2Model`` if it has layer
    scale); with ``with_decoder``, encoder and MAE decoder become a
    ``ViTMAEForPreTraining``. Parts those models have and an MAE encoder
    lacks (the ``ViTModel`` pooler, the DINOv2 mask token) keep
    transformers' initialisation, drawn with seed 0.

    Args:
        state_dict (dict[str, Tensor]): ``backbone.*`` (and ``neck.*``)
            tensors.
        architecture (ViTArchitecture): What they hold.
        dst (str): Output directory.
        with_decoder (bool): Write ``ViTMAEForPreTraining``. Defaults to
            False.

    Returns:
        list[str]: Model keys written at transformers' initialisation.
    """
    import transformers
    config = hf_config(architecture, with_decoder)
    model_class = {
        'ViTModel': transformers.ViTModel,
        'Dinov2Model': transformers.Dinov2Model,
        'ViTMAEForPreTraining': transformers.ViTMAEForPreTraining
    }[config.architectures[0]]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = model_class(config)
    tensors, left = _hf_state_dict(model, state_dict)
    allowed = ('pooler.', 'embeddings.mask_token')
    unfilled = [key for key in left if not key.startswith(allowed)]
    if unfilled:
        raise ConversionError(
            f'No weights for {unfilled[:10]} of {model_class.__name__} in '
            'the checkpoint.')
    used = {mmpretrain_key(key)[0] for key in tensors}
    unused = [
        key for key in state_dict
        if key not in used and (with_decoder or not key.startswith('neck.'))
    ]
    if unused:
        raise ConversionError(
            f'{model_class.__name__} has no place for {unused[:10]}.')
    model.load_state_dict(tensors, strict=False)
    with atomic_directory(dst) as tmp:
        model.save_pretrained(tmp)
    return left
