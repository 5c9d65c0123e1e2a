# Copyright (c) mmsd contributors. All rights reserved.
"""Convert a ViT checkpoint (Hugging Face, official MAE, timm, DINOv2) into
an MMPretrain checkpoint mmsd starts from.

Example::

    python tools/convert_checkpoint.py checkpoints/vit-mae-base \
        checkpoints/vit-mae-base_mmpretrain.pth \
        --config configs/sd_vit-b_cub.py

It prints the architecture found and the ``--cfg-options`` a config needs
to build it; with ``--config`` it also builds that config's model and loads
the result strictly, so that a mismatch shows before any training.
"""
import argparse
import sys

from mmengine.config import Config, DictAction

import mmsd  # noqa: F401  (registers mmsd's models)
from mmsd.converters import (FORMATS, ConversionError, check_against_config,
                             convert, format_options, save_converted)
from mmsd.models import CheckpointMismatchError


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='formats:\n' +
        '\n'.join(f'  {name}: {text}' for name, (text, _) in FORMATS.items()))
    parser.add_argument('src', help='checkpoint file or model directory')
    parser.add_argument('dst', help='output MMPretrain checkpoint (.pth)')
    parser.add_argument(
        '--format',
        choices=list(FORMATS),
        help='source format (detected '
        'from config.json or the keys if not given)')
    parser.add_argument(
        '--config',
        help='check the result against this config: build its model and '
        'load strictly (its image size is the default --img-size)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='options merged into --config, as for tools/train.py')
    parser.add_argument(
        '--img-size',
        type=int,
        help='resize the position embedding to this image size')
    parser.add_argument(
        '--encoder-only',
        action='store_true',
        help='drop an MAE decoder (the run initialises one from its seed)')
    parser.add_argument(
        '--num-heads',
        type=int,
        help='encoder heads, for files that do not store them (timm, MAE)')
    parser.add_argument(
        '--decoder-num-heads',
        type=int,
        help='MAE decoder heads, for files that do not store them')
    parser.add_argument(
        '--ln-eps',
        type=float,
        help='LayerNorm eps, for files that do not store it (default 1e-6)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = None
    img_size = args.img_size
    if args.config:
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        if img_size is None:
            img_size = cfg.model.backbone.get('img_size', 224)
    converted = convert(
        args.src,
        args.format,
        img_size=img_size,
        encoder_only=args.encoder_only,
        num_heads=args.num_heads,
        decoder_num_heads=args.decoder_num_heads,
        ln_eps=args.ln_eps)
    architecture = converted.architecture
    print(f'Found {converted.format} in {args.src}:')
    for line in architecture.describe():
        print(f'  {line}')
    if converted.dropped:
        print(f'  not kept: {", ".join(converted.dropped)}')
    count = save_converted(converted, args.dst)
    parts = sorted({key.split('.')[0] for key in converted.state_dict})
    print(f'Wrote {count} tensors ({", ".join(p + ".*" for p in parts)}) '
          f'to {args.dst}')
    print('--cfg-options for MAE / self-distillation configs:')
    print(f'  model.init_checkpoint={args.dst} ' +
          format_options(architecture.cfg_options('mae')))
    print('--cfg-options for fine-tune configs:')
    print(f'  model.backbone_checkpoint={args.dst} ' +
          format_options(architecture.cfg_options('classifier')))
    if cfg is not None:
        for line in check_against_config(args.dst, cfg):
            print(line)
        key = ('init_checkpoint'
               if cfg.model.get('neck') is not None else 'backbone_checkpoint')
        given = f' {format_options(args.cfg_options)}' \
            if args.cfg_options else ''
        print(f'Train with: --cfg-options model.{key}={args.dst}{given}')


if __name__ == '__main__':
    try:
        main()
    except (ConversionError, CheckpointMismatchError, FileNotFoundError,
            RuntimeError) as err:
        print(f'Error: {err}', file=sys.stderr)
        sys.exit(1)
