# Copyright (c) mmsd contributors. All rights reserved.
import logging
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS, TRANSFORMS
from torch.utils.data import Dataset

from ..utils import model_with

# Transforms whose output depends only on their input (no random draw).
DETERMINISTIC_TRANSFORMS = ('LoadImageFromFile', 'Resize', 'ResizeEdge',
                            'CenterCrop', 'Pad', 'PackInputs', 'ToNumpy',
                            'Transpose')
# Data preprocessors that are deterministic without ``batch_augments``.
DETERMINISTIC_PREPROCESSORS = ('SelfSupDataPreprocessor',
                               'ClsDataPreprocessor')


def _leaf_datasets(dataset: Dataset, name: str):
    """Yield ``(name, dataset)`` for the datasets inside wrappers."""
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        for i, inner in enumerate(dataset.datasets):
            yield from _leaf_datasets(inner, f'{name}.datasets[{i}]')
    elif hasattr(dataset, 'dataset'):  # RepeatDataset, ClassBalanced...
        yield from _leaf_datasets(dataset.dataset, f'{name}.dataset')
    else:
        yield name, dataset


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
            raise KeyError(f'TeacherCacheHook: transform {name!r} is not '
                           'registered in mmpretrain.registry.TRANSFORMS.')
        allowed.add(transform)
    for name, leaf in _leaf_datasets(dataset, 'train_dataloader.dataset'):
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


@HOOKS.register_module()
class TeacherCacheHook(Hook):
    """Turn on the model's teacher-feature cache if the inputs are
    deterministic.

    Part of `Self-Distillation for Further Pre-training of Transformers
    <https://arxiv.org/abs/2210.02871>`_ at a lower cost: the official recipe
    trains on un-augmented images, so the frozen teacher sees the same
    tensor for a sample in every epoch and its features can be computed once
    (:class:`mmsd.models.TeacherFeatureCache`). Before training, the hook
    checks every transform of the training pipeline and the data
    preprocessor against an allow-list; with anything random, or unknown,
    the cache stays off and the log says which transform is to blame. After
    training it logs the cache's hit rate.

    With ``persist``, checkpoints carry the entries (``teacher_cache``: the
    features on the CPU and a fingerprint of the teacher's weights), and a
    resumed run starts from them if the teacher is the same, so it continues
    exactly as the uninterrupted run. Under DDP the checkpoint holds rank
    0's entries; on resume every rank may use them (they are exact for any
    rank) and adds its own.

    Args:
        extra_transforms (Sequence[str]): Names of further deterministic
            transforms to allow. Defaults to ().
        persist (bool): Save the entries in checkpoints and restore them on
            resume. Defaults to True.
    """
    priority = 'NORMAL'

    def __init__(self,
                 extra_transforms: Sequence[str] = (),
                 persist: bool = True) -> None:
        self.extra_transforms = tuple(extra_transforms)
        self.persist = persist
        self._saved: Optional[dict] = None

    def _cache(self, runner):
        model = model_with(runner, 'teacher_cache', self, 'SelfDistillMAE')
        return model, model.teacher_cache

    def before_train(self, runner) -> None:
        """Activate the cache, or log why it stays off."""
        model, cache = self._cache(runner)
        if cache is None:
            print_log(
                'Teacher-feature cache off: model.teacher_cache is False; '
                'the teacher runs every step.',
                logger='current')
            return
        reason = nondeterministic_reason(runner.train_dataloader.dataset,
                                         model.data_preprocessor,
                                         self.extra_transforms)
        if reason is not None:
            cache.deactivate()
            print_log(
                f'Teacher-feature cache off: {reason}, so a sample may reach '
                'the teacher as a different tensor each epoch; the teacher '
                'runs every step.',
                logger='current',
                level=logging.WARNING)
            return
        cache.activate()
        print_log(
            'Teacher-feature cache on: the training pipeline is '
            'deterministic; teacher features are computed once per sample.',
            logger='current')
        if self._saved is not None:
            restored = cache.load_state_dict(self._saved, model.teacher)
            count = len(self._saved['entries'])
            print_log(
                f'Teacher-feature cache: restored {count} entries from the '
                'checkpoint.' if restored else
                f'Teacher-feature cache: ignored {count} entries of the '
                'checkpoint: they belong to another teacher.',
                logger='current')
            self._saved = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Put the entries, if any, in the checkpoint."""
        model, cache = self._cache(runner)
        if self.persist and cache is not None and len(cache):
            checkpoint['teacher_cache'] = cache.state_dict(model.teacher)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the saved entries until the teacher's weights are loaded
        (they are checked against them before training)."""
        if self.persist:
            self._saved = checkpoint.get('teacher_cache')

    def after_train(self, runner) -> None:
        """Log how much the cache saved."""
        _, cache = self._cache(runner)
        if cache is not None and cache.active:
            print_log(
                f'Teacher-feature cache: {cache.summary()}.', logger='current')
