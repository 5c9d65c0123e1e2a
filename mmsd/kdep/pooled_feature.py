# Copyright (c) mmsd contributors. All rights reserved.
"""The pooled feature of a backbone, taken before its final activation.

KDEP regresses the penultimate feature **before the last ReLU**: a ReLU'd
target or prediction cannot be negative and loses half of its information.
MMPretrain's backbones only return activated maps, so the input of the final
activation module is captured with a forward pre-hook during the ordinary
forward pass (no re-implementation of the backbone, so stems, variants and
``with_cp`` keep working):

- ResNet family (``ResNet``, ``ResNetV1c/d``, ``ResNeXt``, ``SEResNet``,
  ``ResNet_CIFAR``, ...): the last residual block's ``relu`` is called last
  on ``out + identity``; its input, average-pooled, is the feature.
- ``MobileNetV2``: the input of ``conv2.activate`` (1x1 conv + BN).
- ``VisionTransformer`` and subclasses: the final-norm token sequence; the
  class token or the mean of the patch tokens.
- Any other backbone: name the activation module with ``pre_act_module``,
  or get its last output (average-pooled if it is a feature map).
"""
from contextlib import contextmanager
from typing import Dict, Iterator, Optional

import torch
from mmpretrain.models import MAEViT
from mmpretrain.models.backbones import MobileNetV2, ResNet, VisionTransformer
from torch import nn

VIT_POOLINGS = ('cls_token', 'mean_patch')


@contextmanager
def capture_last_input(module: nn.Module) -> Iterator[Dict[str, object]]:
    """Record the input of the last call of ``module`` while in the block.

    An in-place activation is handed a copy, so the recorded tensor keeps
    the pre-activation values (and its autograd history).

    Yields:
        dict: ``store['input']`` holds the input of the last call.
    """
    store: Dict[str, object] = {}

    def hook(mod: nn.Module, args: tuple):
        store['input'] = args[0]
        if getattr(mod, 'inplace', False):
            return (args[0].clone(), ) + tuple(args[1:])
        return None

    handle = module.register_forward_pre_hook(hook)
    try:
        yield store
    finally:
        handle.remove()


def final_activation(
        backbone: nn.Module,
        pre_act_module: Optional[str] = None) -> Optional[nn.Module]:
    """The module whose last input is the pre-activation feature map.

    Args:
        backbone (nn.Module): The backbone.
        pre_act_module (str, optional): Dotted name of the module in
            ``backbone``; if None it is found for the ResNet family and
            MobileNetV2. Defaults to None.

    Returns:
        nn.Module, optional: None for backbones without a known final
        activation (e.g. ViTs).
    """
    if pre_act_module is not None:
        return backbone.get_submodule(pre_act_module)
    if isinstance(backbone, ResNet):
        block = getattr(backbone, backbone.res_layers[-1])[-1]
        if not isinstance(getattr(block, 'relu', None), nn.Module):
            raise TypeError(f'{type(block).__name__}, the last block of '
                            f'{type(backbone).__name__}, has no `relu` '
                            'module; set pre_act_module.')
        return block.relu
    if isinstance(backbone, MobileNetV2):
        return backbone.conv2.activate
    return None


def feature_dim(backbone: nn.Module,
                pre_act_module: Optional[str] = None) -> Optional[int]:
    """The width of :func:`pooled_feature`, or None if it is only known
    after a forward pass."""
    if pre_act_module is None:
        if isinstance(backbone, ResNet):
            block = getattr(backbone, backbone.res_layers[-1])[-1]
            return getattr(block, 'out_channels', None)
        if isinstance(backbone, MobileNetV2):
            return backbone.conv2.out_channels
        if isinstance(backbone, VisionTransformer):
            return backbone.embed_dims
    return None


def _pool(feature: torch.Tensor) -> torch.Tensor:
    if feature.dim() == 4:  # (B, C, H, W)
        return feature.mean(dim=(2, 3))
    if feature.dim() == 2:
        return feature
    raise ValueError('Cannot pool a backbone output of shape '
                     f'{tuple(feature.shape)} into (B, C); set '
                     'pre_act_module or use a ViT.')


def _vit_tokens(backbone: VisionTransformer,
                inputs: torch.Tensor) -> torch.Tensor:
    """Run a ViT with ``out_type='raw'``: final-norm tokens ``(B, L, C)``."""
    out_type = backbone.out_type
    backbone.out_type = 'raw'
    try:
        # MAEViT masks unless told not to.
        kwargs = dict(mask=None) if isinstance(backbone, MAEViT) else {}
        return backbone(inputs, **kwargs)[-1]
    finally:
        backbone.out_type = out_type


def pooled_feature(backbone: nn.Module,
                   inputs: torch.Tensor,
                   vit_pooling: str = 'cls_token',
                   pre_act_module: Optional[str] = None) -> torch.Tensor:
    """Pooled feature ``(B, C)`` of ``backbone``, before its final
    activation.

    Args:
        backbone (nn.Module): An MMPretrain backbone.
        inputs (Tensor): Images ``(B, 3, H, W)``.
        vit_pooling (str): For ViTs, ``'cls_token'`` (the final-norm class
            token) or ``'mean_patch'`` (mean of the final-norm patch tokens).
            Defaults to 'cls_token'.
        pre_act_module (str, optional): Dotted name of the final activation
            module, for backbones not found automatically. Defaults to None.
    """
    if vit_pooling not in VIT_POOLINGS:
        raise ValueError(f'vit_pooling={vit_pooling!r} is not one of '
                         f'{VIT_POOLINGS}.')
    activation = final_activation(backbone, pre_act_module)
    if activation is not None:
        with capture_last_input(activation) as store:
            backbone(inputs)
        if 'input' not in store:
            raise RuntimeError(f'The final activation of '
                               f'{type(backbone).__name__} was not called.')
        return _pool(store['input'])
    if isinstance(backbone, VisionTransformer):
        if not backbone.final_norm:
            raise ValueError('KDEP takes the final-norm ViT tokens; build '
                             'the VisionTransformer with final_norm=True.')
        tokens = _vit_tokens(backbone, inputs)
        if vit_pooling == 'cls_token':
            if backbone.num_extra_tokens == 0:
                raise ValueError("vit_pooling='cls_token' needs a ViT with "
                                 "a class token; use 'mean_patch'.")
            return tokens[:, 0]
        return tokens[:, backbone.num_extra_tokens:].mean(dim=1)
    outputs = backbone(inputs)
    if isinstance(outputs, (tuple, list)):
        outputs = outputs[-1]
    return _pool(outputs)
