# Copyright (c) mmsd contributors. All rights reserved.
import logging
from typing import Optional, Sequence

from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

from mmsd.datasets import nondeterministic_reason
from mmsd.models import TeacherFeatureCache
from ..utils import RankStateMixin, model_with


@HOOKS.register_module()
class TeacherCacheHook(RankStateMixin, Hook):
    """Cache the frozen teacher's features if the inputs are deterministic.

    Part of `Self-Distillation for Further Pre-training of Transformers
    <https://arxiv.org/abs/2210.02871>`_ at a lower cost: the official recipe
    trains on un-augmented images, so the frozen teacher sees the same
    tensor for a sample in every epoch and its features can be computed once
    (:class:`mmsd.models.TeacherFeatureCache`). The hook is the only switch
    of the cache: before training it checks every transform of the training
    pipeline and the data preprocessor against an allow-list
    (:func:`mmsd.datasets.nondeterministic_reason`) and only then builds the
    cache and hands it to the model; with anything random, or unknown, the
    model gets no cache and the log says which transform is to blame. After
    training it logs the cache's hit rate.

    With ``persist``, checkpoints carry the entries (``teacher_cache``: the
    features on the CPU and a fingerprint of the teacher's weights), and a
    resumed run starts from them if the teacher is the same, so it continues
    exactly as the uninterrupted run. Under DDP the checkpoint holds the
    entries of every rank (gathered when a checkpoint is due) and each rank
    restores its own: a feature computed in another batch may differ in the
    last bits, so borrowing another rank's entries would not be exact.

    Args:
        device (str, optional): Where the entries are kept, e.g. ``'cpu'``
            to keep GPU memory free. Defaults to None: the device of the
            teacher's output.
        max_entries (int, optional): Stop adding entries beyond this many.
            Defaults to None (no limit).
        extra_transforms (Sequence[str]): Names of further deterministic
            transforms to allow. Defaults to ().
        persist (bool): Save the entries in checkpoints and restore them on
            resume. Defaults to True.
    """
    priority = 'NORMAL'

    def __init__(self,
                 device: Optional[str] = None,
                 max_entries: Optional[int] = None,
                 extra_transforms: Sequence[str] = (),
                 persist: bool = True) -> None:
        # Built here, so that bad arguments fail when the hook is built.
        self.cache = TeacherFeatureCache(device, max_entries)
        self.extra_transforms = tuple(extra_transforms)
        self.persist = persist
        self._saved: Optional[dict] = None

    def _model(self, runner):
        return model_with(runner, 'use_teacher_cache', self, 'SelfDistillMAE')

    def before_train(self, runner) -> None:
        """Hand the model the cache, or log why it runs without one."""
        model = self._model(runner)
        reason = nondeterministic_reason(runner.train_dataloader.dataset,
                                         model.data_preprocessor,
                                         self.extra_transforms)
        if reason is not None:
            model.use_teacher_cache(None)
            print_log(
                f'Teacher-feature cache off: {reason}, so a sample may reach '
                'the teacher as a different tensor each epoch; the teacher '
                'runs every step.',
                logger='current',
                level=logging.WARNING)
            return
        if self._saved is not None:
            restored = self.cache.load_state_dict(self._saved, model.teacher)
            count = len(self._saved['entries'])
            print_log(
                f'Teacher-feature cache: restored {count} entries from the '
                'checkpoint.' if restored else
                f'Teacher-feature cache: ignored {count} entries of the '
                'checkpoint: they belong to another teacher.',
                logger='current')
            self._saved = None
        model.use_teacher_cache(self.cache)
        print_log(
            'Teacher-feature cache on: the training pipeline is '
            'deterministic; teacher features are computed once per sample.',
            logger='current')

    def rank_state(self, runner) -> Optional[dict]:
        """This rank's entries, if the model uses the cache and they
        persist."""
        model = self._model(runner)
        if self.persist and model.teacher_cache is self.cache:
            return self.cache.state_dict(model.teacher)
        return None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Put the entries, if any, in the checkpoint: rank 0's, and in
        distributed runs every rank's."""
        model = self._model(runner)
        if not self.persist or model.teacher_cache is not self.cache:
            return
        states = self.pop_rank_states()
        if states is not None:
            checkpoint['teacher_cache'] = states[0]
            checkpoint['teacher_cache_ranks'] = states
        elif len(self.cache):
            checkpoint['teacher_cache'] = self.cache.state_dict(model.teacher)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the saved entries (this rank's, if the checkpoint has one
        per rank of a run of this size) until the teacher's weights are
        loaded (they are checked against them before training)."""
        if not self.persist:
            return
        ranks = checkpoint.get('teacher_cache_ranks')
        if ranks is not None and len(ranks) == get_world_size():
            self._saved = ranks[get_rank()]
        else:
            self._saved = checkpoint.get('teacher_cache')

    def after_train(self, runner) -> None:
        """Log how much the cache saved."""
        if self._model(runner).teacher_cache is self.cache:
            print_log(
                f'Teacher-feature cache: {self.cache.summary()}.',
                logger='current')
