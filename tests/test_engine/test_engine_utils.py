# Copyright (c) mmsd contributors. All rights reserved.
from types import SimpleNamespace

import pytest
from mmengine.model import BaseDataPreprocessor
from mmengine.model.wrappers import MMDistributedDataParallel
from torch import nn

from mmsd.engine import SelfDistillStageHook
from mmsd.engine.utils import model_with
from mmsd.kdep import SVDBasisHook


class Student(nn.Module):

    def start_distill(self):
        pass


def test_model_with_unwraps_and_names_what_is_missing():
    model = Student()
    hook = SelfDistillStageHook(switch_iter=1)
    runner = SimpleNamespace(model=model)
    assert model_with(runner, 'start_distill', hook, 'SelfDistillMAE') is model
    # A DDP-wrapped model is unwrapped (no process group is needed to test
    # the unwrapping: only the wrapper's class matters).
    wrapper = MMDistributedDataParallel.__new__(MMDistributedDataParallel)
    nn.Module.__init__(wrapper)
    wrapper.module = model
    wrapped = SimpleNamespace(model=wrapper)
    assert model_with(wrapped, 'start_distill', hook, 'X') is model
    with pytest.raises(
            TypeError,
            match="SVDBasisHook needs a model with 'load_basis' "
            r'\(e.g. KDEP\), got Student.'):
        model_with(runner, 'load_basis', SVDBasisHook(), 'KDEP')
    with pytest.raises(TypeError, match='got BaseDataPreprocessor'):
        SelfDistillStageHook(switch_iter=1).before_train(
            SimpleNamespace(model=BaseDataPreprocessor()))
