# Copyright (c) mmsd contributors. All rights reserved.
import gzip
import os.path as osp
import struct
import zlib
from typing import Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS

FASHION_MNIST_CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                         'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
DIGIT_CLASSES = tuple(str(i) for i in range(10))


def read_idx(path: str) -> np.ndarray:
    """Read an unsigned-byte idx file (``.gz`` or raw) into an array.

    Raises:
        ValueError: Naming the file if it is not an idx file, or is cut
            short or corrupt (e.g. an interrupted download or copy).
    """
    opener = gzip.open if path.endswith('.gz') else open
    redo = ('Download or copy it again (the Fashion-MNIST files come with '
            "Debian's dataset-fashion-mnist, see README.md).")
    try:
        with opener(path, 'rb') as f:
            data = f.read()
    except (EOFError, OSError, zlib.error) as err:  # gzip's own errors
        raise ValueError(f'{path} is truncated or corrupt: it does not '
                         f'decompress ({type(err).__name__}: {err}). '
                         f'{redo}') from err
    if len(data) < 4 or data[:2] != b'\x00\x00' or data[2] != 0x08:
        raise ValueError(f'{path} is not an unsigned-byte idx file.')
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f'{path} is truncated: its header announces {ndim} '
                         f'dimensions but the file has {len(data)} bytes, '
                         f'fewer than the {header} of the header. {redo}')
    shape = struct.unpack(f'>{ndim}I', data[4:header])
    body = np.frombuffer(data, np.uint8, offset=header)
    if body.size != np.prod(shape):
        raise ValueError(f'{path} is truncated: {body.size} values for '
                         f'shape {shape}. {redo}')
    return body.reshape(shape)


@DATASETS.register_module()
class IdxImageDataset(BaseDataset):
    """Images and labels stored as (gzipped) MNIST-style idx files.

    Reads ``{data_root}/{prefix}-images-idx3-ubyte[.gz]`` and
    ``{prefix}-labels-idx1-ubyte[.gz]``: Fashion-MNIST as installed by
    Debian's ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``)
    or the subsets embedded in ``demo_data/``. Nothing is downloaded.
    Grayscale images are repeated to 3 channels.

    Args:
        data_root (str): Folder with the idx files.
        split (str): ``'train'`` or ``'test'`` (files ``train-*`` or
            ``t10k-*``). Defaults to 'train'.
        classes (Sequence[str]): Class names. Defaults to Fashion-MNIST's.
        num_per_class (int, optional): Keep a stratified subset of this many
            images per class. Defaults to None (all images).
        subset_seed (int): Seed of the subset draw. Defaults to 0.
        skip_per_class (int): Skip the first this many images per class of
            the seeded draw before keeping ``num_per_class``. With the same
            ``subset_seed``, ``skip_per_class=n`` gives images disjoint from
            the subset ``num_per_class=n`` (e.g. a probe set disjoint from a
            small target set). Defaults to 0.
        **kwargs: Arguments of :class:`mmengine.dataset.BaseDataset`.
    """
    PREFIXES = dict(train='train', test='t10k')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 classes: Sequence[str] = FASHION_MNIST_CLASSES,
                 num_per_class: Optional[int] = None,
                 subset_seed: int = 0,
                 skip_per_class: int = 0,
                 **kwargs) -> None:
        if split not in self.PREFIXES:
            raise ValueError(f'IdxImageDataset: split={split!r} is not one '
                             f'of {tuple(self.PREFIXES)}.')
        if skip_per_class < 0:
            raise ValueError('IdxImageDataset: skip_per_class must be >= 0, '
                             f'got {skip_per_class}.')
        self.split = split
        self.num_per_class = num_per_class
        self.subset_seed = subset_seed
        self.skip_per_class = skip_per_class
        super().__init__(
            data_root=data_root,
            metainfo=dict(classes=tuple(classes)),
            **kwargs)

    def _find(self, kind: str) -> str:
        stem = osp.join(self.data_root, f'{self.PREFIXES[self.split]}-{kind}')
        for path in (stem, stem + '.gz'):
            if osp.isfile(path):
                return path
        raise FileNotFoundError(f'IdxImageDataset: neither {stem} nor '
                                f'{stem}.gz exists.')

    def load_data_list(self) -> list:
        images = read_idx(self._find('images-idx3-ubyte'))
        label_file = self._find('labels-idx1-ubyte')
        labels = read_idx(label_file)
        if len(images) != len(labels):
            raise ValueError(f'IdxImageDataset: {len(images)} images but '
                             f'{len(labels)} labels in {self.data_root}.')
        num_classes = len(self.metainfo['classes'])
        outside = np.flatnonzero(labels >= num_classes)
        if outside.size:
            more = f' (and {outside.size - 1} more)' if outside.size > 1 \
                else ''
            raise ValueError(
                f'{label_file}: label {labels[outside[0]]} of record '
                f'{outside[0]}{more} is outside the {num_classes} classes '
                f'{self.metainfo["classes"]}. Fix the file, or set the '
                'dataset\'s "classes" to all its classes.')
        indices = np.arange(len(labels))
        if self.num_per_class is not None or self.skip_per_class:
            rng = np.random.default_rng(self.subset_seed)
            start = self.skip_per_class
            stop = None if self.num_per_class is None else \
                start + self.num_per_class
            parts = []
            for label in np.unique(labels):
                drawn = rng.permutation(np.flatnonzero(labels == label))
                if stop is not None and stop > len(drawn):
                    raise ValueError(
                        f'IdxImageDataset: class {label} of {self.data_root} '
                        f'({self.split}) has {len(drawn)} images, fewer than '
                        f'skip_per_class + num_per_class = {stop}.')
                parts.append(drawn[start:stop])
            indices = np.sort(np.concatenate(parts))
        return [
            dict(
                img=np.repeat(images[i][..., None], 3, axis=-1),
                gt_label=int(labels[i])) for i in indices
        ]
