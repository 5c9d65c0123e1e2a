# Copyright (c) mmsd contributors. All rights reserved.
"""Write a small two-class image set (circles vs squares) for the demo.

Layout (MMPretrain CustomDataset)::

    OUT/{train,test}/{circle,square}/<i>.png
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np


def draw(shape: str, rng: np.random.Generator, size: int) -> np.ndarray:
    image = np.full((size, size, 3), rng.integers(0, 80, 3), np.uint8)
    color = tuple(int(c) for c in rng.integers(120, 256, 3))
    radius = int(rng.integers(size // 6, size // 3))
    cx, cy = (int(v) for v in rng.integers(radius, size - radius, 2))
    if shape == 'circle':
        cv2.circle(image, (cx, cy), radius, color, -1)
    else:
        cv2.rectangle(image, (cx - radius, cy - radius),
                      (cx + radius, cy + radius), color, -1)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='output folder, e.g. data/demo_shapes')
    parser.add_argument('--train', type=int, default=64, help='per class')
    parser.add_argument('--test', type=int, default=32, help='per class')
    parser.add_argument('--size', type=int, default=32)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    for split, count in (('train', args.train), ('test', args.test)):
        for shape in ('circle', 'square'):
            folder = osp.join(args.out, split, shape)
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                cv2.imwrite(
                    osp.join(folder, f'{i}.png'), draw(shape, rng,
                                                       args.size))
    print(f'Wrote {2 * (args.train + args.test)} images to {args.out}')


if __name__ == '__main__':
    main()
