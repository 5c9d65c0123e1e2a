# Copyright (c) mmsd contributors. All rights reserved.
"""Write a backbone from a training checkpoint, for MMPretrain (a
tensors-only file), Hugging Face or timm.

Example::

    python tools/export_backbone.py work_dirs/sd/iter_40000.pth sd.pth
    python tools/export_backbone.py work_dirs/sd/iter_40000.pth fpt.pth \
        --source teacher
    python tools/export_backbone.py work_dirs/sd/iter_40000.pth sd_hf \
        --format hf
    python tools/export_backbone.py work_dirs/sd/sd_backbone.pth sd_timm \
        --format timm
"""
import argparse
import sys
from collections import OrderedDict

from mmengine.config import Config

import mmsd  # noqa: F401  (safe loading of MMEngine checkpoints)
from mmsd.converters import (EXPORT_FORMATS, ConversionError,
                             architecture_from_config, architecture_from_meta,
                             export_encoder)
from mmsd.utils import (export_backbone, load_checkpoint_file, select_prefix,
                        unwrap_state_dict)

SOURCES = dict(student='backbone.', backbone='backbone.', teacher='teacher.')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='training checkpoint (.pth)')
    parser.add_argument(
        'dst', help='output file (.pth) or directory (hf, timm)')
    parser.add_argument(
        '--source',
        choices=sorted(SOURCES),
        default='student',
        help='which encoder to export: the trained student/backbone, or the '
        'frozen teacher of a self-distillation checkpoint')
    parser.add_argument(
        '--format',
        choices=EXPORT_FORMATS,
        default='mmpretrain',
        help='mmpretrain: tensors-only backbone.* file (default); hf: a '
        'transformers ViTModel (Dinov2Model with layer scale) directory; '
        'timm: a timm directory (local-dir:) or, for a .pth/.safetensors '
        'dst, a timm state dict')
    parser.add_argument(
        '--with-decoder',
        action='store_true',
        help='hf: write ViTMAEForPreTraining with the MAE decoder (neck.*)')
    parser.add_argument(
        '--config',
        help='the training config, for the architecture (heads, LayerNorm '
        'eps) when the checkpoint does not record it')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    prefix = SOURCES[args.source]
    if args.format == 'mmpretrain':
        count = export_backbone(args.src, args.dst, prefix)
        print(f'Wrote {count} tensors ({args.source}) to {args.dst}')
        return
    checkpoint = load_checkpoint_file(args.src, 'source checkpoint')
    state_dict = unwrap_state_dict(checkpoint)
    source = f'The source checkpoint {args.src!r}'
    tensors = OrderedDict(
        ('backbone.' + k, v)
        for k, v in select_prefix(state_dict, prefix, source).items())
    if args.with_decoder:
        if prefix != 'backbone.':
            raise ConversionError('--with-decoder: only the student has a '
                                  'decoder; the teacher is an encoder.')
        tensors.update(
            ('neck.' + k, v)
            for k, v in select_prefix(state_dict, 'neck.', source).items())
    if args.config:
        architecture = architecture_from_config(Config.fromfile(args.config))
    else:
        architecture = architecture_from_meta(checkpoint.get('meta') or {})
    how = export_encoder(tensors, architecture, args.dst, args.format,
                         args.with_decoder)
    print(f'Wrote the {args.source} encoder to {args.dst}: {how}')


if __name__ == '__main__':
    try:
        main()
    except (ConversionError, KeyError, FileNotFoundError, RuntimeError) as err:
        print(f'Error: {err}', file=sys.stderr)
        sys.exit(1)
