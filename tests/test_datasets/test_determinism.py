# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmpretrain.models import SelfSupDataPreprocessor

from mmsd.datasets import nondeterministic_reason


def test_deterministic_check_names_what_is_random():
    init_default_scope('mmpretrain')  # transform names of MMPretrain
    preprocessor = SelfSupDataPreprocessor()

    class Dataset:
        pipeline = Compose(
            [dict(type='Resize', scale=8),
             dict(type='PackInputs')])

    class Repeat:
        dataset = Dataset()

    assert nondeterministic_reason(Repeat(), preprocessor) is None
    Dataset.pipeline = Compose([dict(type='RandomFlip', prob=0.5)])
    assert nondeterministic_reason(Repeat(), preprocessor) == (
        'transform RandomFlip in train_dataloader.dataset.dataset.pipeline '
        'is random or not known to be deterministic')
    assert nondeterministic_reason(Repeat(), preprocessor,
                                   ['RandomFlip']) is None
    Dataset.pipeline = None
    assert 'has no MMEngine pipeline' in nondeterministic_reason(
        Dataset(), preprocessor)
    Dataset.pipeline = Compose([])
    mixup = SelfSupDataPreprocessor()
    mixup.batch_augments = object()
    assert nondeterministic_reason(Dataset(), mixup) == (
        'data preprocessor SelfSupDataPreprocessor has batch_augments')
    assert 'Module is not known' in nondeterministic_reason(
        Dataset(), torch.nn.Module()).replace('preprocessor ', '')
    with pytest.raises(KeyError, match="'NoSuchTransform' is not registered"):
        nondeterministic_reason(Dataset(), preprocessor, ['NoSuchTransform'])
