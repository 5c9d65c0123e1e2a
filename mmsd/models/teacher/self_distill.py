# Copyright (c) mmsd contributors. All rights reserved.
from typing import Callable, Dict, List, Optional, Union

import torch
from mmpretrain.registry import MODELS
from torch import nn

from .frozen import FrozenTeacherMixin


class SelfDistillMixin(FrozenTeacherMixin):
    """The self-distillation protocol: the stage state and the one way to
    start distilling.

    Implementation of the stage switch of `Self-Distillation for Further
    Pre-training of Transformers <https://arxiv.org/abs/2210.02871>`_. A run
    starts in round 0, further pre-training of the student (no distillation
    loss). :meth:`start_distill` ends a round: the student's encoder (or a
    snapshot of it taken earlier in the round) becomes the frozen teacher,
    the student restarts from its initial weights (``restart_from=
    'initial'``, the paper) or from the teacher (``'teacher'``, the paper's
    ablation of the initialisation), the round counter goes up and the
    teacher-feature cache, if one is attached, is cleared. From round 1 on,
    the algorithm adds its distillation loss; every further call starts one
    more round, whose teacher is the previous round's student
    (multi-round self-distillation). A ``teacher_checkpoint`` starts the run
    in round 1.

    The round is the model's extra state (``_extra_state`` in the state
    dict, a tensor, so that checkpoints record it and MMEngine can broadcast
    it): a resumed run continues in its round. Checkpoints written before
    the counter existed hold a bool (``distill_enabled``): False is round 0,
    True round 1.

    An algorithm says only what its student encoder is
    (:attr:`student_encoder`), how the student restarts
    (:meth:`load_initial_weights`) and from what (:attr:`initial_weights`,
    set by its argument :attr:`initial_weights_arg`), and which of its
    modules get no gradient while it distils (:meth:`unused_in_distill`).
    Put the mixin first, ``class Algo(SelfDistillMixin, Model)``, and call
    :meth:`init_self_distill` in ``__init__``.
    """
    #: Where the student restarts from when a round starts.
    RESTARTS = ('initial', 'teacher')
    #: The argument that sets :attr:`initial_weights`, for messages.
    initial_weights_arg = 'init_checkpoint'
    distill_round: int = 0
    teacher_checkpoint: Optional[str] = None
    #: A :class:`TeacherFeatureCache` to clear when the teacher changes.
    teacher_cache = None
    restart_from: str = 'initial'
    #: Restart the student from :attr:`initial_weights` (the model's own
    #: method, e.g. :meth:`FurtherPretrainMAE.load_initial_weights`).
    load_initial_weights: Callable[[], None]

    def init_self_distill(self,
                          teacher: Union[dict, nn.Module],
                          teacher_checkpoint: Optional[str],
                          distill_head: dict,
                          restart_from: str = 'initial') -> None:
        """Build the frozen teacher and the distillation loss head; round 0
        until the teacher is loaded or :meth:`start_distill` is called.

        ``distill_head`` needs no ``type``: it defaults to
        :class:`SelfDistillHead`, whose own defaults are the paper's, so a
        config (or ``--cfg-options model.distill_head.loss_weight=2``) gives
        only what differs. ``restart_from`` is ``'initial'`` (the student
        restarts from :attr:`initial_weights`) or ``'teacher'`` (its
        encoder starts as the new teacher, the rest of the model as it
        was).
        """
        if restart_from not in self.RESTARTS:
            raise ValueError(f'{type(self).__name__}: restart_from='
                             f'{restart_from!r} is not one of '
                             f'{self.RESTARTS}.')
        self.restart_from = restart_from
        self.build_teacher(teacher)
        self.distill_head = MODELS.build({
            'type': 'SelfDistillHead',
            **distill_head
        })
        self.teacher_checkpoint = teacher_checkpoint
        self.distill_round = 0

    @property
    def student_encoder(self) -> nn.Module:
        """The student's encoder, which :meth:`start_distill` copies into
        the teacher."""
        raise NotImplementedError

    @property
    def initial_weights(self) -> Optional[str]:
        """Where the student restarts from (a file or a directory), or
        None if it cannot restart."""
        raise NotImplementedError

    @property
    def distill_enabled(self) -> bool:
        """Whether the distillation loss is on (round 1 or later)."""
        return self.distill_round > 0

    @distill_enabled.setter
    def distill_enabled(self, enabled: bool) -> None:
        # Distill towards the teacher as it is (tests, benchmarks); a run
        # changes rounds only through start_distill().
        self.distill_round = max(self.distill_round, 1) if enabled else 0

    def init_weights(self) -> None:
        """Run the model's initialisation, then load ``teacher_checkpoint``
        (if given), which starts round 1 (and, with ``restart_from=
        'teacher'``, the student's encoder)."""
        super().init_weights()
        if self.teacher_checkpoint is not None:
            self.load_teacher(self.teacher_checkpoint)
            self.distill_round = 1
            if self.restart_from == 'teacher':
                self.student_encoder.load_state_dict(self.teacher.state_dict())

    def check_restartable(self) -> None:
        """Raise a ``ValueError`` if the student has no initial weights to
        restart from (and restarts from them)."""
        if self.restart_from == 'initial' and self.initial_weights is None:
            raise ValueError(
                f'{type(self).__name__}: set model.'
                f'{self.initial_weights_arg}; the student restarts from it '
                'when self-distillation starts.')

    def unused_in_distill(self) -> List[str]:
        """Names of the modules with parameters that get no gradient while
        the model distils (e.g. a decoder whose loss weight is 0); a
        distributed run must then find unused parameters."""
        return []

    def start_distill(
            self,
            teacher_state: Optional[Dict[str, torch.Tensor]] = None) -> None:
        """Freeze the student's encoder as the teacher, restart the student
        and start the next round.

        Args:
            teacher_state (dict, optional): Weights of the student's encoder
                to freeze instead of its current ones, e.g. a snapshot of
                the step where a probe was best. Defaults to None.
        """
        self.teacher.load_state_dict(self.student_encoder.state_dict(
        ) if teacher_state is None else teacher_state)
        if self.restart_from == 'initial':
            self.load_initial_weights()
        else:
            self.student_encoder.load_state_dict(self.teacher.state_dict())
        self.distill_round += 1
        if self.teacher_cache is not None:
            # The cache would drop the entries of the old teacher on its
            # next look-up anyway; clearing now frees the memory at once.
            self.teacher_cache.clear()

    def get_extra_state(self) -> torch.Tensor:
        return torch.tensor(self.distill_round)

    def set_extra_state(self, state: torch.Tensor) -> None:
        self.distill_round = int(state)  # a bool of older checkpoints: 0/1
