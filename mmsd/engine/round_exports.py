# Copyright (c) mmsd contributors. All rights reserved.
"""What export hooks share: writing the encoder of every round of a
multi-round self-distillation run."""
from typing import Dict, Optional, Tuple

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model


def planned_rounds(runner) -> int:
    """Rounds of self-distillation the runner's stage hook plans (0 if it
    has none)."""
    return max((getattr(hook, 'rounds', 0)
                for hook in getattr(runner, 'hooks', [])
                if hasattr(hook, 'switch_iters')),
               default=0)


class RoundExportHook(Hook):
    """An export hook that writes its ``sources`` when training ends and,
    with ``each_round``, the encoder of every round of self-distillation
    as soon as the round ends.

    The encoder that ends round ``k`` (0: further pre-training) is the
    teacher of round ``k + 1``: it is written (from :attr:`teacher_source`)
    right after the stage hook switched, and the last round's student (from
    :attr:`student_source`) when training ends. A source on the teacher
    holds only the last round's teacher, so it is refused in a run with
    several rounds. Subclasses say how to write (:meth:`write`).

    Args:
        sources (dict[str, str]): Name to the model's part to write when
            training ends.
        each_round (str, optional): Name of the encoder of every round,
            formatted with ``round=k``, e.g. ``'round{round}_backbone'``.
            Defaults to None (no per-round files).
    """
    priority = 'LOW'
    #: The model's part holding the teacher, and the trained student.
    teacher_source: str
    #: Other names of the model's parts that hold the teacher.
    teacher_aliases: Tuple[str, ...] = ()
    student_source: str

    def __init__(self,
                 sources: Dict[str, str],
                 each_round: Optional[str] = None) -> None:
        if each_round is not None and each_round.format(round=0) == \
                each_round.format(round=1):
            raise ValueError(f'{type(self).__name__}: each_round='
                             f'{each_round!r} must hold "{{round}}".')
        self.sources = dict(sources)
        self.each_round = each_round
        self._round: Optional[int] = None

    def write(self, runner, name: str, source: str) -> None:
        """Write the model's ``source`` as ``name`` in the work dir."""
        raise NotImplementedError

    def before_train(self, runner) -> None:
        model = get_ori_model(runner.model)
        self._round = getattr(model, 'distill_round', None)
        rounds = planned_rounds(runner)
        teacher = [
            name for name, source in self.sources.items()
            if source.rstrip('.') in (self.teacher_source.rstrip('.'),
                                      *self.teacher_aliases)
        ]
        if rounds > 1 and teacher:
            raise ValueError(
                f'{type(self).__name__}: {teacher[0]!r} would hold the '
                f'teacher of the last of {rounds} rounds, not the further '
                f'pre-trained encoder; remove it from sources and set '
                "each_round='round{round}_...' to write the encoder of "
                'every round (round0 is the further pre-trained one).')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Write the encoder of the round that just ended (the new
        teacher); runs after the stage hook switched."""
        if self.each_round is None or self._round is None:
            return
        current = get_ori_model(runner.model).distill_round
        if current > self._round:
            if is_main_process():
                self.write(runner, self.each_round.format(round=current - 1),
                           self.teacher_source)
            self._round = current

    def after_train(self, runner) -> None:
        if not is_main_process():
            return
        for name, source in self.sources.items():
            self.write(runner, name, source)
        if self.each_round is not None and self._round is not None:
            self.write(runner, self.each_round.format(round=self._round),
                       self.student_source)
