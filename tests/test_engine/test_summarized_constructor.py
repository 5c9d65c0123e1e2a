# Copyright (c) mmsd contributors. All rights reserved.
"""The optimizer constructor: MMEngine's groups, frozen modules left out,
a short log."""
import logging

import torch
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mmsd.engine import SummarizedOptimWrapperConstructor

CFG = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
PARAMWISE = dict(norm_decay_mult=0.0, bias_decay_mult=0.0)


class Student(nn.Module):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.pos_embed = nn.Parameter(torch.zeros(4), requires_grad=False)
        self.teacher = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        self.teacher.requires_grad_(False)


class Records(logging.Handler):

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def groups(optim_wrapper):
    return [{
        k: v
        for k, v in group.items() if k != 'params'
    } | {
        'params': [id(p) for p in group['params']]
    } for group in optim_wrapper.optimizer.param_groups]


def test_same_groups_without_the_frozen_and_a_short_log():
    logger = MMLogger.get_instance('test_summarized_constructor')
    records = Records()
    logger.addHandler(records)
    model = Student()
    default = DefaultOptimWrapperConstructor(CFG, PARAMWISE)(model)
    default_messages = list(records.messages)
    assert sum('requires_grad=False' in m for m in default_messages) == 5
    assert sum(m.startswith('paramwise_options') for m in default_messages) \
        == 3  # weight_decay=0 of the norm's weight and bias, the fc's bias
    records.messages.clear()

    summarized = SummarizedOptimWrapperConstructor(CFG, PARAMWISE)(model)
    # The same parameters in the same groups as MMEngine's constructor.
    assert groups(summarized) == groups(default)
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert {p for g in groups(summarized) for p in g['params']} == trainable
    (summary, ) = records.messages
    assert summary.splitlines() == [
        'AdamW: 4 parameter tensors (0.00M values) in 2 setting(s):',
        '  lr=0.001, weight_decay=0.05: 1 tensors (0.00M)',
        '  lr=0.001, weight_decay=0.0: 3 tensors (0.00M)',
        '  left out (requires_grad=False): teacher (4 tensors), pos_embed',
    ]
    # Other log records still go through.
    logger.warning('a real warning')
    assert records.messages[-1] == 'a real warning'
    logger.removeHandler(records)
