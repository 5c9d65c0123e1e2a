# Copyright (c) mmsd contributors. All rights reserved.
"""Whether a training sample reaches the model as the same tensor in every
epoch: the condition for caching a frozen teacher's features."""
from typing import Optional, Sequence

from mmpretrain.registry import TRANSFORMS
from torch.utils.data import Dataset

from mmsd.utils import leaf_datasets

# Transforms whose output depends only on their input (no random draw).
DETERMINISTIC_TRANSFORMS = ('LoadImageFromFile', 'Resize', 'ResizeEdge',
                            'CenterCrop', 'Pad', 'PackInputs', 'ToNumpy',
                            'Transpose')
# Data preprocessors that are deterministic without ``batch_augments``.
DETERMINISTIC_PREPROCESSORS = ('SelfSupDataPreprocessor',
                               'ClsDataPreprocessor')


def nondeterministic_reason(
    dataset: Dataset,
    data_preprocessor: object,
    extra_transforms: Sequence[str] = ()
) -> Optional[str]:
    """Why the training inputs may differ between epochs, or None.

    Every transform of every pipeline must be of a type named in
    :data:`DETERMINISTIC_TRANSFORMS` (or ``extra_transforms``), exactly (a
    subclass may add randomness), and the data preprocessor must be a known
    deterministic one without batch augmentations.

    Args:
        dataset (Dataset): The training dataset (wrappers are looked into).
        data_preprocessor (object): The model's data preprocessor.
        extra_transforms (Sequence[str]): More transform names (registered in
            ``mmpretrain.registry.TRANSFORMS``) known to be deterministic.
            Defaults to ().
    """
    allowed = set()
    for name in (*DETERMINISTIC_TRANSFORMS, *extra_transforms):
        transform = TRANSFORMS.get(name)
        if transform is None:
            raise KeyError(f'extra_transforms: {name!r} is not registered in '
                           'mmpretrain.registry.TRANSFORMS.')
        allowed.add(transform)
    for name, leaf in leaf_datasets(dataset, 'train_dataloader.dataset'):
        pipeline = getattr(leaf, 'pipeline', None)
        transforms = getattr(pipeline, 'transforms', None)
        if transforms is None:
            return (f'{name} ({type(leaf).__name__}) has no MMEngine '
                    'pipeline to check')
        for transform in transforms:
            if type(transform) not in allowed:
                return (f'transform {type(transform).__name__} in '
                        f'{name}.pipeline is random or not known to be '
                        'deterministic')
    preprocessor = type(data_preprocessor).__name__
    if preprocessor not in DETERMINISTIC_PREPROCESSORS:
        return (f'data preprocessor {preprocessor} is not known to be '
                'deterministic')
    if getattr(data_preprocessor, 'batch_augments', None) is not None:
        return f'data preprocessor {preprocessor} has batch_augments'
    return None
