# Copyright (c) mmsd contributors. All rights reserved.
"""Checkpoints in and out of mmsd: Hugging Face ViTMAE / ViT / DINOv2
directories, official MAE and timm ViT files in; MMPretrain, Hugging Face
and timm out.

Nothing here imports transformers or timm until a Hugging Face or timm
model is written (or a timm hub directory names its model).
"""
from .architecture import (ConversionError, DecoderArchitecture,
                           ViTArchitecture, format_options)
from .config_check import check_against_config
from .detect import FORMATS, convert, detect_format
from .export import EXPORT_FORMATS, export_encoder, vit_architecture
from .mmpretrain_format import architecture_from_config, architecture_from_meta
from .source import Converted, Source, read_source, save_converted

__all__ = [
    'ConversionError', 'Converted', 'DecoderArchitecture', 'EXPORT_FORMATS',
    'FORMATS', 'Source', 'ViTArchitecture', 'architecture_from_config',
    'architecture_from_meta', 'check_against_config', 'convert',
    'detect_format', 'export_encoder', 'format_options', 'read_source',
    'save_converted', 'vit_architecture'
]
