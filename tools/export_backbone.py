# Copyright (c) mmsd contributors. All rights reserved.
"""Write a tensors-only backbone checkpoint from a training checkpoint.

Example::

    python tools/export_backbone.py work_dirs/sd/iter_40000.pth sd.pth
    python tools/export_backbone.py work_dirs/sd/iter_40000.pth fpt.pth \
        --source teacher
"""
import argparse

import mmsd  # noqa: F401  (safe loading of MMEngine checkpoints)
from mmsd.utils import export_backbone

SOURCES = dict(student='backbone.', backbone='backbone.', teacher='teacher.')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='training checkpoint (.pth)')
    parser.add_argument('dst', help='output backbone file (.pth)')
    parser.add_argument(
        '--source',
        choices=sorted(SOURCES),
        default='student',
        help='which encoder to export: the trained student/backbone, or the '
        'frozen teacher of a self-distillation checkpoint')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    count = export_backbone(args.src, args.dst, SOURCES[args.source])
    print(f'Wrote {count} tensors ({args.source}) to {args.dst}')


if __name__ == '__main__':
    main()
