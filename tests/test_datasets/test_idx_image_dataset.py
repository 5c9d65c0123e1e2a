# Copyright (c) mmsd contributors. All rights reserved.
import gzip
import os.path as osp

import numpy as np
import pytest
from conftest import REPO

from mmsd.datasets import DIGIT_CLASSES, FASHION_MNIST_CLASSES, IdxImageDataset

FASHION = osp.join(REPO, 'demo_data', 'fashion_mnist')
DIGITS = osp.join(REPO, 'demo_data', 'mnist_digits')
DEBIAN = '/usr/share/datasets/fashion-mnist'


def labels_of(dataset) -> np.ndarray:
    return np.array([dataset[i]['gt_label'] for i in range(len(dataset))])


@pytest.mark.parametrize('root, split, classes, per_class', [
    (FASHION, 'train', FASHION_MNIST_CLASSES, 200),
    (FASHION, 'test', FASHION_MNIST_CLASSES, 100),
    (DIGITS, 'train', DIGIT_CLASSES, 500),
])
def test_embedded_data_counts_and_labels(root, split, classes, per_class):
    dataset = IdxImageDataset(root, split=split, classes=classes)
    assert len(dataset) == 10 * per_class
    assert dataset.metainfo['classes'] == classes
    assert np.bincount(labels_of(dataset)).tolist() == [per_class] * 10
    image = dataset.get_data_info(0)['img']
    assert image.shape == (28, 28, 3) and image.dtype == np.uint8
    assert np.array_equal(image[..., 0], image[..., 2])
    assert image.max() > 100  # real pictures, not blank


def test_stratified_subset_is_seeded():
    subset = IdxImageDataset(FASHION, num_per_class=20, subset_seed=1)
    assert np.bincount(labels_of(subset)).tolist() == [20] * 10
    again = IdxImageDataset(FASHION, num_per_class=20, subset_seed=1)
    other = IdxImageDataset(FASHION, num_per_class=20, subset_seed=2)
    first = [subset.get_data_info(i)['img'].sum() for i in range(20)]
    assert first == [again.get_data_info(i)['img'].sum() for i in range(20)]
    assert first != [other.get_data_info(i)['img'].sum() for i in range(20)]


def test_skip_per_class_gives_disjoint_sets():
    # A small target set, and a probe set of the rest of the same draw.
    target = IdxImageDataset(FASHION, num_per_class=10, subset_seed=3)
    probe = IdxImageDataset(
        FASHION, num_per_class=50, subset_seed=3, skip_per_class=50)
    rest = IdxImageDataset(FASHION, subset_seed=3, skip_per_class=150)
    assert np.bincount(labels_of(probe)).tolist() == [50] * 10
    assert np.bincount(labels_of(rest)).tolist() == [50] * 10
    # The first 10 of a 60-per-class draw are the target set: skipping
    # them keeps exactly the other 50.
    larger = IdxImageDataset(FASHION, num_per_class=60, subset_seed=3)
    after = IdxImageDataset(
        FASHION, num_per_class=50, subset_seed=3, skip_per_class=10)

    def images(dataset):
        return {
            dataset.get_data_info(i)['img'].tobytes()
            for i in range(len(dataset))
        }

    assert images(target) | images(after) == images(larger)
    assert not images(target) & images(after)
    assert not images(target) & images(probe)
    assert not images(probe) & images(rest)
    with pytest.raises(ValueError, match='fewer than skip_per_class'):
        IdxImageDataset(FASHION, num_per_class=60, skip_per_class=150)


def test_bad_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='t10k-images-idx3-ubyte'):
        IdxImageDataset(str(tmp_path), split='test')
    with open(tmp_path / 'train-images-idx3-ubyte.gz', 'wb') as f:
        f.write(gzip.compress(b'\x00\x00\x08\x03' + b'\x00' * 12))
    with open(tmp_path / 'train-labels-idx1-ubyte', 'wb') as f:
        f.write(b'junk')
    with pytest.raises(ValueError, match='labels-idx1-ubyte is not an'):
        IdxImageDataset(str(tmp_path))
    with pytest.raises(ValueError, match="split='val'"):
        IdxImageDataset(str(tmp_path), split='val')


@pytest.mark.skipif(
    not osp.isdir(DEBIAN), reason='Debian dataset-fashion-mnist not installed')
def test_full_fashion_mnist_from_debian():
    dataset = IdxImageDataset(DEBIAN, split='test')
    assert len(dataset) == 10000
    assert np.bincount(labels_of(dataset)).tolist() == [1000] * 10
