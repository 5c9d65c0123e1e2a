# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from conftest import FT_CONFIG, TINY_FT, tiny_config
from mmpretrain.registry import MODELS

from mmsd.models import CheckpointMismatchError
from mmsd.utils import export_backbone, read_state_dict


def build_classifier(**kwargs):
    cfg = tiny_config(FT_CONFIG, TINY_FT).model
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_loads_exported_mae_encoder_with_all_keys(init_checkpoint, tmp_path):
    path = str(tmp_path / 'backbone.pth')
    export_backbone(init_checkpoint, path)
    model = build_classifier(backbone_checkpoint=path)
    expected = read_state_dict(init_checkpoint, 'backbone.')
    state = model.backbone.state_dict()
    assert state.keys() == expected.keys()
    for key in expected:
        torch.testing.assert_close(state[key], expected[key])
    scores = model(torch.randn(2, 3, 32, 32))
    assert scores.shape == (2, 2)


def test_dropout_head_is_active_in_training_only(init_checkpoint):
    model = build_classifier(backbone_checkpoint=init_checkpoint)
    inputs = torch.randn(4, 3, 32, 32)
    model.eval()
    torch.testing.assert_close(model(inputs), model(inputs))
    model.train()
    model.head.dropout.p = 0.9
    assert not torch.allclose(model(inputs), model(inputs))


def test_mismatched_backbone_is_an_error(init_checkpoint):
    with pytest.raises(
            CheckpointMismatchError,
            match=r'backbone file .*init.pth.*\n.*missing keys'):
        build_classifier(
            backbone_checkpoint=init_checkpoint,
            backbone=dict(out_type='avg_featmap', final_norm=False))
    # Declared differences are allowed.
    build_classifier(
        backbone_checkpoint=init_checkpoint,
        ignore_keys=['ln1.*', 'ln2.*'],
        backbone=dict(out_type='avg_featmap', final_norm=False))
