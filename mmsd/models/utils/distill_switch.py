# Copyright (c) mmsd contributors. All rights reserved.
import torch


class DistillSwitchMixin:
    """``distill_enabled``, saved in the model's state dict.

    Two-stage self-distillation runs (see
    :class:`mmsd.engine.SelfDistillStageHook`) turn distillation on when the
    teacher is ready; a resumed run must know which stage it is in. The
    flag is a tensor in the state dict, so MMEngine can broadcast it.
    """
    distill_enabled: bool = False

    def get_extra_state(self) -> torch.Tensor:
        return torch.tensor(self.distill_enabled)

    def set_extra_state(self, state: torch.Tensor) -> None:
        self.distill_enabled = bool(state)
