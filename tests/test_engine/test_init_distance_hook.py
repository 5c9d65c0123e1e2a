# Copyright (c) mmsd contributors. All rights reserved.
import json
import os
import os.path as osp
from collections import defaultdict

import pytest
import torch
from conftest import make_runner

from mmsd.engine.hooks.init_distance_hook import block_of
from mmsd.utils import read_state_dict


def test_blocks_are_layers_or_top_level_modules():
    assert block_of('cls_token') == 'cls_token'
    assert block_of('patch_embed.projection.weight') == 'patch_embed'
    assert block_of('layers.3.attn.qkv.weight') == 'layers.3'
    assert block_of('ln1.weight') == 'ln1'
    assert block_of('encoder.layer.11.output.dense.bias') == 'encoder.layer.11'
    assert block_of('embeddings.word_embeddings.weight') == 'embeddings'


def logged(work_dir) -> dict:
    """Every ``dist_init/*`` scalar of the work dir's runs: step -> name ->
    value."""
    found = defaultdict(dict)
    for run in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                found[record['step']].update((k, v) for k, v in record.items()
                                             if k.startswith('dist_init/'))
    return {step: values for step, values in found.items() if values}


def by_hand(encoder: dict, initial: dict) -> dict:
    blocks = defaultdict(float)
    for key, value in encoder.items():
        if key in initial:  # parameters (no buffers in MAEViT)
            blocks[block_of(key)] += float(
                (value.double() - initial[key].double()).pow(2).sum())
    distances = {f'dist_init/{b}': v**0.5 for b, v in blocks.items()}
    distances['dist_init/total'] = sum(blocks.values())**0.5
    return distances


HOOK = dict(type='InitDistanceHook', interval=1)


def test_distance_to_the_initial_weights_in_every_stage(
        image_root, init_checkpoint, tmp_path):
    make_runner(
        image_root, init_checkpoint, tmp_path, rounds=2,
        extra_hooks=[HOOK]).train()
    values = logged(tmp_path)
    assert sorted(values) == list(range(7))
    initial = read_state_dict(init_checkpoint, 'backbone.')
    assert values[0]['dist_init/total'] == 0
    for step in range(1, 7):
        encoder = read_state_dict(
            str(tmp_path / f'iter_{step}.pth'), 'backbone.')
        expected = by_hand(encoder, initial)
        student = dict(values[step])
        student.pop('dist_init/teacher', None)
        assert student.keys() == expected.keys()
        for key, value in expected.items():
            assert student[key] == pytest.approx(value, rel=1e-12), key
        assert values[step]['dist_init/total'] > 0
        assert 'dist_init/layers.1' in values[step]
    # Each round's teacher is the encoder that ended the previous round.
    for switch in (2, 4):
        assert values[switch]['dist_init/teacher'] == pytest.approx(
            values[switch]['dist_init/total'], rel=1e-12)
    # The restarted student starts closer than its teacher ended.
    assert values[3]['dist_init/total'] < values[2]['dist_init/total']


def test_the_curve_goes_on_exactly_after_a_resume(image_root, init_checkpoint,
                                                  tmp_path):
    options = dict(extra_hooks=[HOOK])
    full, resumed = tmp_path / 'full', tmp_path / 'resumed'
    make_runner(image_root, init_checkpoint, full, **options).train()
    make_runner(
        image_root,
        init_checkpoint,
        resumed,
        resume=True,
        load_from=str(full / 'iter_3.pth'),
        **options).train()
    expected, actual = logged(full), logged(resumed)
    assert sorted(actual) == [4]  # no start record: not a fresh run
    assert actual[4] == expected[4]


def test_a_model_without_initial_weights_is_refused(image_root, tmp_path):
    runner = make_runner(
        image_root, None, tmp_path, **{
            'custom_hooks': [HOOK],
            'param_scheduler': [],
        })
    with pytest.raises(
            ValueError,
            match='SelfDistillMAE has no initial '
            'weights.*set model.init_checkpoint'):
        runner.train()


def test_a_resumed_run_reads_the_initial_weights_again(init_checkpoint):
    from conftest import build_tiny_mae
    model = build_tiny_mae(init_checkpoint=init_checkpoint)
    model.init_weights()
    initial = model.initial_encoder_state()
    for key, value in model.backbone.named_parameters():
        assert torch.equal(value, initial[key]), key
