# Copyright (c) mmsd contributors. All rights reserved.
"""Visualizer backends named on the command line."""
import importlib.util

import pytest
from mmengine.config import Config, DictAction

from mmsd.utils import expand_vis_backends


def config_with(option: str) -> Config:
    """A config after ``--cfg-options option``, as MMEngine parses it."""
    cfg = Config(
        dict(visualizer=dict(vis_backends=[dict(type='LocalVisBackend')])))
    key, value = option.split('=', 1)
    cfg.merge_from_dict({key: DictAction._parse_iterable(value)})
    return cfg


def test_names_stand_for_their_backends(monkeypatch):
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: object())
    cfg = config_with('visualizer.vis_backends='
                      '[LocalVisBackend,TensorboardVisBackend]')
    assert cfg.visualizer.vis_backends == [
        'LocalVisBackend', 'TensorboardVisBackend'
    ]
    expand_vis_backends(cfg)
    assert cfg.visualizer.vis_backends == [
        dict(type='LocalVisBackend'),
        dict(type='TensorboardVisBackend')
    ]
    cfg = config_with('visualizer.vis_backends=TensorboardVisBackend')
    expand_vis_backends(cfg)
    assert cfg.visualizer.vis_backends == [dict(type='TensorboardVisBackend')]
    # Configs that spell them out are left alone.
    cfg = config_with('visualizer.vis_backends.0.type=WandbVisBackend')
    expand_vis_backends(cfg)
    assert cfg.visualizer.vis_backends == [dict(type='WandbVisBackend')]


def test_missing_tensorboard_is_named_before_the_run(monkeypatch):
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: None)
    cfg = config_with('visualizer.vis_backends=[TensorboardVisBackend]')
    with pytest.raises(ModuleNotFoundError, match=r'pip install -e "\.\[tb'):
        expand_vis_backends(cfg)
    expand_vis_backends(
        config_with('visualizer.vis_backends=[LocalVisBackend]'))
