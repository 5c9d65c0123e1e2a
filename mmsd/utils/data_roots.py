# Copyright (c) mmsd contributors. All rights reserved.
"""Fail early, and helpfully, when a configured dataset is not on disk."""
import os.path as osp
from typing import Any, Iterator, Mapping, Tuple

from mmengine.config import Config

# Where each dataset must be unpacked; README.md "Data preparation" (images)
# and docs/text.md (text) have the full layouts.
DATASET_HINTS = {
    'CUB':
    'extract CUB_200_2011.tgz so that <data_root>/images.txt exists',
    'FGVCAircraft':
    'extract fgvc-aircraft-2013b.tar.gz and point data_root '
    'at its data/ folder (images/, images_variant_trainval.txt)',
    'DTD':
    'extract dtd-r1.0.1.tar.gz so that <data_root>/images/ and '
    '<data_root>/imdb/imdb.mat exist',
    'Flowers102':
    'put 102flowers.tgz (extracted jpg/), imagelabels.mat and '
    'setid.mat in <data_root>',
    'TextDataset':
    'put the JSON-lines files (train.jsonl, dev.jsonl, test.jsonl; one '
    '{"text": ..., "label": ...} object per line) in <data_root>',
    'CustomDataset':
    'lay the images out as <data_root>/<split>/<class>/'
    '<image> (one sub-folder per class)',
}
# Where the README describes them, when not in "Data preparation".
README_SECTIONS = {
    'TextDataset':
    'README.md, "Text (transformers): self-distillation and CR-ILD", and '
    'docs/text.md',
}


def leaf_datasets(dataset: Any, name: str) -> Iterator[Tuple[str, Any]]:
    """Yield ``(name, dataset)`` for the datasets inside wrappers.

    Works on dataset configs (dicts) and built datasets alike: a
    ``ConcatDataset`` is looked into through its ``datasets``, a wrapper
    (``RepeatDataset``, ``ClassBalancedDataset``, ...) through its
    ``dataset``. ``name`` is the path of ``dataset`` (e.g.
    ``'train_dataloader.dataset'``); each leaf's is extended accordingly.
    """

    def inner(key: str) -> Any:
        if isinstance(dataset, Mapping):
            return dataset.get(key)
        return getattr(dataset, key, None)

    if inner('datasets') is not None:
        for i, sub in enumerate(inner('datasets')):
            yield from leaf_datasets(sub, f'{name}.datasets[{i}]')
    elif inner('dataset') is not None:
        yield from leaf_datasets(inner('dataset'), f'{name}.dataset')
    else:
        yield name, dataset


def iter_data_roots(cfg: Config) -> Iterator[Tuple[str, str, str]]:
    """Yield ``(dataloader, dataset type, data_root)`` for each dataset."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader_cfg = cfg.get(loader)
        if not loader_cfg or 'dataset' not in loader_cfg:
            continue
        for _, dataset in leaf_datasets(loader_cfg['dataset'], loader):
            root = dataset.get('data_root')
            if root:
                yield loader, str(dataset.get('type', '')), root


def check_data_roots(cfg: Config, loaders: Tuple[str, ...] = None) -> None:
    """Raise a clear error if a configured ``data_root`` does not exist.

    Args:
        cfg (Config): The full config.
        loaders (tuple[str], optional): Only check these dataloaders, e.g.
            ``('test_dataloader',)``. Defaults to all three.
    """
    for loader, dataset_type, root in iter_data_roots(cfg):
        if loaders and loader not in loaders:
            continue
        if osp.isdir(root):
            continue
        name = dataset_type.split('.')[-1]
        hint = DATASET_HINTS.get(name, DATASET_HINTS['CustomDataset'])
        section = README_SECTIONS.get(name, 'README.md, "Data preparation"')
        raise FileNotFoundError(
            f'{loader}: the {dataset_type} dataset is not at data_root='
            f'{root!r} (resolved to {osp.abspath(root)!r}). Download it and '
            f'{hint}; or pass --cfg-options {loader}.dataset.data_root=PATH.'
            f' See {section}.')
