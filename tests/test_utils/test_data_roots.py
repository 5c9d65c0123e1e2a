# Copyright (c) mmsd contributors. All rights reserved.
from types import SimpleNamespace

import pytest
from mmengine.config import Config

from mmsd.utils import check_data_roots, leaf_datasets

NAMES = [
    'train_dataloader.dataset.datasets[0].dataset',
    'train_dataloader.dataset.datasets[1]'
]


def test_configs_and_built_datasets_are_walked_alike(tmp_path):
    first = dict(type='CUB', data_root=str(tmp_path / 'cub'))
    second = dict(type='DTD', data_root=str(tmp_path))
    cfg = dict(
        type='ConcatDataset',
        datasets=[dict(type='RepeatDataset', times=2, dataset=first), second])
    leaves = list(leaf_datasets(cfg, 'train_dataloader.dataset'))
    assert leaves == list(zip(NAMES, [first, second]))
    built = SimpleNamespace(datasets=[SimpleNamespace(dataset='cub'), 'dtd'])
    leaves = list(leaf_datasets(built, 'train_dataloader.dataset'))
    assert leaves == list(zip(NAMES, ['cub', 'dtd']))
    # check_data_roots finds the missing root inside both wrappers.
    with pytest.raises(
            FileNotFoundError,
            match="train_dataloader: the CUB dataset is not at "
            f"data_root='{tmp_path / 'cub'}'"):
        check_data_roots(Config(dict(train_dataloader=dict(dataset=cfg))))
    (tmp_path / 'cub').mkdir()
    check_data_roots(Config(dict(train_dataloader=dict(dataset=cfg))))
