# Copyright (c) mmsd contributors. All rights reserved.
import os
from typing import List, Optional

import numpy as np
from mmengine.hooks import Hook
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model
from torch import nn

from mmsd.utils import leaf_datasets


def model_num_classes(model: nn.Module) -> Optional[int]:
    """The number of classes a classifier predicts, or None for a model
    that does not classify (pre-training, distillation, regression)."""
    head = getattr(model, 'head', None)
    if isinstance(getattr(head, 'num_classes', None), int):
        return head.num_classes
    if isinstance(head, ClsHead):  # a head on logits computed elsewhere
        return getattr(model, 'num_classes', None)
    return None


def describe(dataset) -> str:
    """A dataset's type and where it reads from."""
    source = getattr(dataset, 'ann_file', '') or getattr(
        dataset, 'data_root', '')
    return f'{type(dataset).__name__} ({source})' if source else type(
        dataset).__name__


def listing(items: List[str], limit: int = 5) -> str:
    more = f' (and {len(items) - limit} more)' if len(items) > limit else ''
    return ', '.join(items[:limit]) + more


@HOOKS.register_module()
class DataCheckHook(Hook):
    """Check the datasets against the model before any compute.

    Otherwise bad data ends in a library exception at the batch that draws
    it, or in no error at all:

    - image files that are missing or empty (OpenCV's ``!buf.empty()``);
    - labels outside the classifier's classes (``Target 12 is out of
      bounds`` at the first batch);
    - records without a label for a classifier (e.g. a misspelt label
      column: ``no attribute 'gt_label'`` at the first iteration);
    - a classifier whose number of classes differs from the dataset's
      (trains and evaluates without a word).

    The training and validation sets are checked before training, the test
    set before testing. Each error names the dataloader, the dataset's
    file or folder and the records at fault.

    Args:
        check_files (bool): Check that every image file exists and is not
            empty (one ``os.stat`` per image). Defaults to True.
    """
    priority = 'VERY_HIGH'

    def __init__(self, check_files: bool = True) -> None:
        self.check_files = check_files

    def before_train(self, runner) -> None:
        model = get_ori_model(runner.model)
        self.check(runner.train_loop.dataloader.dataset, 'train_dataloader',
                   model)
        if runner.val_loop is not None:
            self.check(runner.val_loop.dataloader.dataset, 'val_dataloader',
                       model)

    def before_test(self, runner) -> None:
        self.check(runner.test_loop.dataloader.dataset, 'test_dataloader',
                   get_ori_model(runner.model))

    def check(self, dataset, loader: str, model: nn.Module) -> None:
        """Check one dataloader's dataset against ``model``.

        Raises:
            ValueError: Naming the dataloader, the dataset and what is
                wrong, with what to do.
        """
        num_classes = model_num_classes(model)
        classes = getattr(dataset, 'metainfo', {}).get('classes')
        if num_classes is not None and classes is not None and \
                len(classes) != num_classes:
            raise ValueError(
                f'{loader}: {describe(dataset)} has {len(classes)} classes '
                f'{tuple(classes)[:10]}, but {type(model).__name__} '
                f'predicts {num_classes}. Set the model\'s num_classes (and '
                f'data_preprocessor.num_classes) to {len(classes)}, or the '
                'dataset\'s classes to the ones the model predicts.')
        limit = num_classes if num_classes is not None else (
            len(classes) if classes is not None else None)
        for name, leaf in leaf_datasets(dataset, f'{loader}.dataset'):
            self._check_records(leaf, name, model, num_classes, limit)

    def _check_records(self, dataset, name: str, model: nn.Module,
                       num_classes: Optional[int],
                       limit: Optional[int]) -> None:
        if hasattr(dataset, 'full_init'):
            dataset.full_init()
        missing, empty, unlabeled, outside = [], [], [], []
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            path = info.get('img_path')
            if self.check_files and isinstance(path, str):
                try:
                    if os.stat(path).st_size == 0:
                        empty.append(path)
                except FileNotFoundError:
                    missing.append(path)
            label = info.get('gt_label')
            if label is None:
                if 'gt_score' not in info:
                    unlabeled.append(str(index))
            elif limit is not None:
                values = np.asarray(label).ravel()
                if values.size and (values.min() < 0 or values.max() >= limit):
                    outside.append(f'record {index} (label {label})')
        where = f'{name}: {describe(dataset)}'
        if missing:
            raise FileNotFoundError(
                f'{where} lists {len(missing)} image files that do not '
                f'exist: {listing(missing)}. Restore them or remove them from '
                'the annotation file.')
        if empty:
            raise ValueError(
                f'{where} holds {len(empty)} empty (0-byte) image files: '
                f'{listing(empty)}. An interrupted download or copy leaves '
                'them; copy them again or delete them.')
        if num_classes is not None and unlabeled:
            raise ValueError(
                f'{where}: {len(unlabeled)} of {len(dataset)} records have no '
                f'label (records {listing(unlabeled)}), but '
                f'{type(model).__name__} needs one for each. Check the '
                "dataset's label field (e.g. TextDataset's label_key) "
                'against the file.')
        if outside:
            raise ValueError(
                f'{where}: {len(outside)} labels are outside the {limit} '
                f'classes [0, {limit}): {listing(outside)}. Fix the labels, '
                'or the number of classes of the dataset and the model.')
