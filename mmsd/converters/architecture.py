# Copyright (c) mmsd contributors. All rights reserved.
"""What a ViT checkpoint holds, in MMPretrain's terms.

A converter reads an architecture from the source (its ``config.json``, or
the tensor shapes), checks the converted tensors against MMPretrain modules
of that architecture, and prints the ``--cfg-options`` that make a config
build those modules.
"""
import dataclasses
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

# Widths of published ViTs and their head counts: timm and official MAE or
# DINOv2 files do not store the number of heads.
KNOWN_HEADS = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16, 1536: 24}
KNOWN_DECODER_HEADS = {512: 16}  # the MAE decoder of every MAE release


class ConversionError(ValueError):
    """A checkpoint cannot be converted, or does not fit a config."""


@dataclasses.dataclass
class DecoderArchitecture:
    """An MAE decoder (MMPretrain's ``MAEPretrainDecoder``).

    Args:
        embed_dims (int): Decoder width.
        num_layers (int): Number of decoder blocks.
        num_heads (int): Attention heads per block.
        feedforward_channels (int): Hidden width of the MLPs.
        ln_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        out_channels (int): Pixels predicted per patch (patch² x channels).
            Defaults to 0: patch² x the encoder's input channels.
    """
    embed_dims: int
    num_layers: int
    num_heads: int
    feedforward_channels: int
    ln_eps: float = 1e-6
    out_channels: int = 0

    @property
    def mlp_ratio(self) -> float:
        return self.feedforward_channels / self.embed_dims

    @classmethod
    def from_module(cls, neck: nn.Module) -> 'DecoderArchitecture':
        """Read a built ``MAEPretrainDecoder``."""
        block = neck.decoder_blocks[0]
        return cls(
            embed_dims=neck.decoder_embed.out_features,
            num_layers=len(neck.decoder_blocks),
            num_heads=block.attn.num_heads,
            feedforward_channels=block.ffn.layers[0][0].out_features,
            ln_eps=neck.decoder_norm.eps,
            out_channels=neck.decoder_pred.out_features)

    def mismatches(self, other: 'DecoderArchitecture') -> List[str]:
        """``'decoder field: value here vs value there'`` per difference."""
        found = []
        for field in dataclasses.fields(self):
            mine, theirs = getattr(self,
                                   field.name), getattr(other, field.name)
            if mine != theirs:
                found.append(f'decoder {field.name}: {mine!r} vs {theirs!r}')
        return found


@dataclasses.dataclass
class ViTArchitecture:
    """A plain ViT encoder (class token, absolute position embedding, pre-norm
    blocks, final LayerNorm) and optionally an MAE decoder.

    Args:
        patch_size (int): Patch size.
        img_size (int): Image size the position embedding is for (square).
        embed_dims (int): Width.
        num_layers (int): Depth.
        num_heads (int): Attention heads.
        feedforward_channels (int): Hidden width of the MLPs.
        ln_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        qkv_bias (bool): Whether q, k and v have biases. Defaults to True.
        layer_scale (bool): Whether blocks scale their branches (DINOv2,
            DeiT III). Defaults to False.
        in_channels (int): Image channels. Defaults to 3.
        decoder (DecoderArchitecture, optional): The MAE decoder, if any.
            Defaults to None.
        assumed (tuple[str]): Fields the source does not store, taken from
            defaults or options. Defaults to ().
        mask_ratio (float, optional): MAE mask ratio of the source, if it
            says. Defaults to None.
        norm_pix (bool, optional): Whether the source's MAE loss normalises
            the target pixels, if it says. Defaults to None.
    """
    patch_size: int
    img_size: int
    embed_dims: int
    num_layers: int
    num_heads: int
    feedforward_channels: int
    ln_eps: float = 1e-6
    qkv_bias: bool = True
    layer_scale: bool = False
    in_channels: int = 3
    decoder: Optional[DecoderArchitecture] = None
    assumed: Tuple[str, ...] = ()
    mask_ratio: Optional[float] = None
    norm_pix: Optional[bool] = None

    def __post_init__(self):
        if self.img_size % self.patch_size:
            raise ConversionError(
                f'Image size {self.img_size} is not a multiple of the patch '
                f'size {self.patch_size}.')
        if self.embed_dims % self.num_heads:
            raise ConversionError(
                f'Width {self.embed_dims} is not divisible by '
                f'{self.num_heads} heads.')
        decoder = self.decoder
        if decoder is not None and not decoder.out_channels:
            decoder.out_channels = self.patch_size**2 * self.in_channels
        if decoder is not None and int(
                decoder.mlp_ratio *
                decoder.embed_dims) != decoder.feedforward_channels:
            raise ConversionError(
                'MMPretrain builds decoder MLPs of int(mlp_ratio * width) '
                f'channels; {decoder.feedforward_channels} is not reachable '
                f'from width {decoder.embed_dims}.')

    @property
    def grid(self) -> int:
        return self.img_size // self.patch_size

    @property
    def num_patches(self) -> int:
        return self.grid**2

    @property
    def mlp_ratio(self) -> float:
        return self.feedforward_channels / self.embed_dims

    def replace(self, **changes) -> 'ViTArchitecture':
        return dataclasses.replace(self, **changes)

    # Serialisation (checkpoint ``meta``: plain Python values only).
    def to_dict(self) -> dict:
        result = dataclasses.asdict(self)
        result['assumed'] = list(self.assumed)
        return result

    @classmethod
    def from_dict(cls, data: dict) -> 'ViTArchitecture':
        data = dict(data)
        if data.get('decoder') is not None:
            data['decoder'] = DecoderArchitecture(**data['decoder'])
        data['assumed'] = tuple(data.get('assumed', ()))
        return cls(**data)

    @classmethod
    def from_modules(cls,
                     backbone: nn.Module,
                     neck: Optional[nn.Module] = None,
                     head: Optional[nn.Module] = None) -> 'ViTArchitecture':
        """Read the architecture of built MMPretrain modules: a
        ``VisionTransformer``/``MAEViT`` and optionally a
        ``MAEPretrainDecoder`` and ``MAEPretrainHead``."""
        layer = backbone.layers[0]
        projection = backbone.patch_embed.projection
        patch = projection.kernel_size[0]
        decoder = None
        if neck is not None:
            decoder = DecoderArchitecture.from_module(neck)
        return cls(
            patch_size=patch,
            img_size=backbone.patch_resolution[0] * patch,
            embed_dims=backbone.embed_dims,
            num_layers=len(backbone.layers),
            num_heads=layer.attn.num_heads,
            feedforward_channels=layer.ffn.layers[0][0].out_features,
            ln_eps=layer.ln1.eps,
            qkv_bias=layer.attn.qkv.bias is not None,
            layer_scale=not isinstance(layer.attn.gamma1, nn.Identity),
            in_channels=projection.in_channels,
            decoder=decoder,
            mask_ratio=getattr(backbone, 'mask_ratio', None),
            norm_pix=getattr(head, 'norm_pix', None))

    # What MMPretrain builds from it.
    def arch_name(self) -> Optional[str]:
        """The shortest name of MMPretrain's ``VisionTransformer`` arch zoo
        with these sizes, if any."""
        from mmpretrain.models import VisionTransformer
        sizes = dict(
            embed_dims=self.embed_dims,
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            feedforward_channels=self.feedforward_channels)
        names = [
            name for name, value in VisionTransformer.arch_zoo.items()
            if value == sizes
        ]
        return min(names, key=len) if names else None

    def backbone_kwargs(self) -> dict:
        """Arguments of ``VisionTransformer``/``MAEViT`` for this encoder."""
        layer_cfgs = dict(qkv_bias=self.qkv_bias)
        if self.layer_scale:
            # Any positive value creates the scales; the file sets them.
            layer_cfgs['layer_scale_init_value'] = 1e-5
        return dict(
            arch=dict(
                embed_dims=self.embed_dims,
                num_layers=self.num_layers,
                num_heads=self.num_heads,
                feedforward_channels=self.feedforward_channels),
            img_size=self.img_size,
            patch_size=self.patch_size,
            in_channels=self.in_channels,
            norm_cfg=dict(type='LN', eps=self.ln_eps),
            layer_cfgs=layer_cfgs)

    def neck_kwargs(self) -> dict:
        """Arguments of ``MAEPretrainDecoder`` for this decoder."""
        decoder = self.decoder
        return dict(
            num_patches=self.num_patches,
            patch_size=self.patch_size,
            in_chans=self.in_channels,
            embed_dim=self.embed_dims,
            decoder_embed_dim=decoder.embed_dims,
            decoder_depth=decoder.num_layers,
            decoder_num_heads=decoder.num_heads,
            mlp_ratio=decoder.mlp_ratio,
            norm_cfg=dict(type='LN', eps=decoder.ln_eps),
            predict_feature_dim=decoder.out_channels)

    def expected_shapes(self) -> Dict[str, torch.Size]:
        """Keys and shapes of MMPretrain's modules for this architecture
        (``backbone.*``, and ``neck.*`` with a decoder), built on the meta
        device, i.e. without memory or initialisation."""
        from mmpretrain.models import MAEPretrainDecoder, VisionTransformer
        shapes = OrderedDict()
        with torch.device('meta'):
            modules = dict(
                backbone=VisionTransformer(**self.backbone_kwargs()))
            if self.decoder is not None:
                modules['neck'] = MAEPretrainDecoder(**self.neck_kwargs())
        for prefix, module in modules.items():
            for key, value in module.state_dict().items():
                shapes[f'{prefix}.{key}'] = value.shape
        return shapes

    def cfg_options(self, kind: str = 'mae') -> Dict[str, object]:
        """Dotted config keys and values that make an mmsd config build this
        architecture.

        Args:
            kind (str): ``'mae'`` for MAE / self-distillation configs
                (``backbone``, ``neck``, ``head``) or ``'classifier'`` for
                fine-tune configs (``backbone`` only). Defaults to 'mae'.
        """
        options = OrderedDict()
        name = self.arch_name()
        if name is not None:
            options['model.backbone.arch'] = name
        else:
            options['model.backbone.arch._delete_'] = True
            for key in ('embed_dims', 'num_layers', 'num_heads',
                        'feedforward_channels'):
                options[f'model.backbone.arch.{key}'] = getattr(self, key)
        options['model.backbone.img_size'] = self.img_size
        options['model.backbone.patch_size'] = self.patch_size
        if self.in_channels != 3:
            options['model.backbone.in_channels'] = self.in_channels
        options['model.backbone.norm_cfg.type'] = 'LN'
        options['model.backbone.norm_cfg.eps'] = self.ln_eps
        options['model.backbone.layer_cfgs.qkv_bias'] = self.qkv_bias
        options['model.backbone.layer_cfgs.layer_scale_init_value'] = (
            1e-5 if self.layer_scale else 0.)
        if kind == 'classifier':
            return options
        if kind != 'mae':
            raise ValueError(f"kind must be 'mae' or 'classifier', got "
                             f'{kind!r}.')
        options['model.neck.num_patches'] = self.num_patches
        options['model.neck.patch_size'] = self.patch_size
        options['model.neck.embed_dim'] = self.embed_dims
        if self.in_channels != 3:
            options['model.neck.in_chans'] = self.in_channels
        if self.decoder is not None:
            decoder = self.decoder
            options['model.neck.decoder_embed_dim'] = decoder.embed_dims
            options['model.neck.decoder_depth'] = decoder.num_layers
            options['model.neck.decoder_num_heads'] = decoder.num_heads
            options['model.neck.mlp_ratio'] = decoder.mlp_ratio
            options['model.neck.norm_cfg.type'] = 'LN'
            options['model.neck.norm_cfg.eps'] = decoder.ln_eps
        options['model.head.patch_size'] = self.patch_size
        if self.in_channels != 3:
            options['model.head.in_channels'] = self.in_channels
        return options

    def options_for(self,
                    other: 'ViTArchitecture',
                    kind: str = 'mae') -> Dict[str, object]:
        """The options of :meth:`cfg_options` that turn a config building
        ``other`` into one building this architecture: those that differ,
        with ``arch`` and ``norm_cfg`` given whole."""
        mine, theirs = self.cfg_options(kind), other.cfg_options(kind)
        groups = ('model.backbone.arch', 'model.backbone.norm_cfg',
                  'model.neck.norm_cfg')

        def group(key):
            return next(
                (g for g in groups if key == g or key.startswith(g + '.')),
                key)

        changed = {
            group(key)
            for key, value in mine.items()
            if key not in theirs or theirs[key] != value
        }
        return OrderedDict((key, value) for key, value in mine.items()
                           if group(key) in changed)

    def mismatches(self, other: 'ViTArchitecture') -> List[str]:
        """``'field: value here vs value there'`` for each difference that
        matters for loading (the decoder only if both have one)."""
        fields = ('patch_size', 'img_size', 'embed_dims', 'num_layers',
                  'num_heads', 'feedforward_channels', 'ln_eps', 'qkv_bias',
                  'layer_scale', 'in_channels')
        found = [
            f'{name}: {getattr(self, name)!r} vs {getattr(other, name)!r}'
            for name in fields if getattr(self, name) != getattr(other, name)
        ]
        if self.decoder is not None and other.decoder is not None:
            found += self.decoder.mismatches(other.decoder)
        return found

    def describe(self) -> List[str]:
        """Human-readable lines: what was found, and what was assumed."""

        def assumed(name):
            return ' (assumed)' if name in self.assumed else ''

        grid = f'{self.grid}x{self.grid}'
        lines = [
            f'encoder: ViT, patch {self.patch_size}, image {self.img_size} '
            f'({grid} patches), width {self.embed_dims}, depth '
            f'{self.num_layers}, heads {self.num_heads}'
            f'{assumed("num_heads")}, MLP {self.feedforward_channels} '
            f'(ratio {self.mlp_ratio:g}), '
            f'{"qkv bias" if self.qkv_bias else "no qkv bias"}, '
            f'{"layer scale" if self.layer_scale else "no layer scale"}, '
            f'LayerNorm eps {self.ln_eps:g}{assumed("ln_eps")}'
        ]
        if self.decoder is None:
            lines.append('decoder: none (encoder only)')
        else:
            decoder = self.decoder
            lines.append(
                f'decoder: MAE, width {decoder.embed_dims}, depth '
                f'{decoder.num_layers}, heads {decoder.num_heads}'
                f'{assumed("decoder_num_heads")}, MLP '
                f'{decoder.feedforward_channels} (ratio '
                f'{decoder.mlp_ratio:g}), LayerNorm eps {decoder.ln_eps:g}')
        extras = []
        if self.mask_ratio is not None:
            extras.append(f'mask ratio {self.mask_ratio:g}')
        if self.norm_pix is not None:
            extras.append(
                'normalised-pixel loss' if self.norm_pix else 'raw-pixel loss')
        if extras:
            lines.append('source training: ' + ', '.join(extras))
        return lines


def recorded_mismatches(module: nn.Module, meta: dict,
                        prefix: str) -> List[str]:
    """What differs (``'field: file vs module'``) between a built
    MMPretrain ViT encoder or MAE decoder (``prefix`` ``'neck.'``) and the
    architecture a converted or exported file records in its ``meta``.
    Heads and LayerNorm eps leave no trace in key names or shapes. ``[]``
    when the file records none or the module is neither."""
    from mmpretrain.models import MAEPretrainDecoder, VisionTransformer
    if not meta.get('architecture'):
        return []
    stored = ViTArchitecture.from_dict(meta['architecture'])
    if isinstance(module, VisionTransformer):
        return stored.replace(decoder=None).mismatches(
            ViTArchitecture.from_modules(module))
    if isinstance(module, MAEPretrainDecoder) and stored.decoder is not None:
        return stored.decoder.mismatches(
            DecoderArchitecture.from_module(module))
    return []


def format_options(options: Dict[str, object]) -> str:
    """``key=value`` pairs as ``--cfg-options`` takes them."""

    def value(v):
        return repr(v) if isinstance(v, float) else str(v)

    return ' '.join(f'{key}={value(v)}' for key, v in options.items())


def heads_for_width(width: int,
                    given: Optional[int],
                    source: str,
                    option: str = '--num-heads',
                    table: Dict[int, int] = KNOWN_HEADS) -> Tuple[int, bool]:
    """The number of heads of a file that does not store it: ``given``, or
    the published models' value for ``width``. Returns ``(heads,
    assumed)``."""
    if given is not None:
        return given, False
    if width in table:
        return table[width], True
    raise ConversionError(
        f'{source} does not store the number of attention heads, and width '
        f'{width} is not one of the published ViTs ({sorted(table)}); pass '
        f'{option}.')
