# Copyright (c) mmsd contributors. All rights reserved.
import math
from types import SimpleNamespace

import pytest
import torch
from conftest import make_runner

from mmsd.engine import FiniteLossHook


def after_iter(outputs, work_dir, iteration=6):
    runner = SimpleNamespace(iter=iteration, work_dir=str(work_dir))
    FiniteLossHook().after_train_iter(runner, 0, None, outputs)


def test_finite_losses_and_other_outputs_pass(tmp_path):
    after_iter(None, tmp_path)
    after_iter({}, tmp_path)
    after_iter(
        dict(loss=torch.tensor(1.5), loss_mae=0.5, acc=float('nan')),
        tmp_path)  # acc is not a loss: not checked


@pytest.mark.parametrize('bad', [float('nan'), math.inf, -math.inf])
def test_a_non_finite_term_stops_with_every_term_named(bad, tmp_path):
    outputs = dict(
        loss=torch.tensor(bad, requires_grad=True),
        loss_mae=torch.tensor(0.25),
        loss_distill=bad)
    with pytest.raises(FloatingPointError) as err:
        after_iter(outputs, tmp_path, iteration=6)
    message = str(err.value)
    assert message.startswith('Iteration 7: the loss is not finite')
    assert f'loss={bad}, loss_mae=0.25, loss_distill={bad}' in message
    assert f'no checkpoint was saved in {tmp_path}' in message


def test_nan_loss_stops_with_a_clear_error(image_root, init_checkpoint,
                                           tmp_path):
    runner = make_runner(image_root, init_checkpoint, tmp_path)
    runner.model.head.loss = lambda *args, **kwargs: torch.tensor(
        float('nan'), requires_grad=True)
    with pytest.raises(
            FloatingPointError,
            match='Iteration 1: the loss is not finite '
            r'\(loss=nan, loss_mae=nan\)'):
        runner.train()
