# Copyright (c) mmsd contributors. All rights reserved.
import json
import os
import os.path as osp
import random
import socket
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import (REPO, SD_CONFIG, run, tiny_config, two_stage_options,
                      write_images)
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.models import MAEViT
from torch import nn

from mmsd.engine import RepresentationProbeHook
from mmsd.models.utils.fixed_masks import masking_from_noise
from mmsd.utils import read_state_dict

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='PackInputs'),
]


@pytest.fixture(scope='session')
def probe_root(tmp_path_factory) -> str:
    """Labelled probe images, 3 classes: ``bank/`` 15 and ``query/`` 9
    (odd counts, so two processes get padded shards)."""
    root = str(tmp_path_factory.mktemp('probe'))
    write_images(osp.join(root, 'bank'), ('a', 'b', 'c'), 5, seed=1)
    write_images(osp.join(root, 'query'), ('a', 'b', 'c'), 3, seed=2)
    write_images(osp.join(root, 'flat', 'x'), ('y', ), 2, seed=3)
    return root


def loader(root: str, prefix: str, **dataset) -> dict:
    return dict(
        batch_size=4,
        num_workers=0,
        dataset=dict(
            type='CustomDataset',
            data_root=root,
            data_prefix=prefix,
            pipeline=PIPELINE,
            **dataset))


def probe_hook(probe_root: str, image_root: str, **options) -> dict:
    hook = dict(
        type='RepresentationProbeHook',
        interval=2,
        bank_dataloader=loader(probe_root, 'bank'),
        query_dataloader=loader(probe_root, 'query'),
        heldout_dataloader=loader(probe_root, 'query'),
        train_eval_dataloader=loader(image_root, 'train'),
        linear_probe=True,
        knn_k=5)
    hook.update(options)
    return hook


def make_config(image_root,
                init_checkpoint,
                work_dir,
                probe=None,
                further=4,
                distill=4,
                **options):
    stages = two_stage_options(further, distill)
    if probe is not None:
        stages['custom_hooks'].append(probe)
    return tiny_config(
        SD_CONFIG, **{
            **stages,
            'model.init_checkpoint': init_checkpoint,
            'train_dataloader.dataset.data_root': image_root,
            'work_dir': str(work_dir),
            'randomness.seed': 0,
            **options,
        })


class LossRecordHook(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.losses = []

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.losses.append({k: v.item() for k, v in outputs.items()})


def the_probe(runner) -> RepresentationProbeHook:
    hooks = [h for h in runner.hooks if isinstance(h, RepresentationProbeHook)]
    assert len(hooks) == 1
    return hooks[0]


def read_scalars(work_dir) -> list:
    [path] = [
        osp.join(root, 'scalars.json')
        for root, _, files in os.walk(str(work_dir)) if 'scalars.json' in files
    ]
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope='module')
def probed_run(image_root, init_checkpoint, probe_root, tmp_path_factory):
    """A 4 + 4-iteration self-distillation run probed every 2 iterations,
    checkpoints at every iteration, and the losses of every iteration."""
    work_dir = tmp_path_factory.mktemp('probed')
    runner = Runner.from_cfg(
        make_config(image_root, init_checkpoint, work_dir,
                    probe_hook(probe_root, image_root)))
    record = LossRecordHook()
    runner.register_hook(record)
    runner.train()
    return SimpleNamespace(
        work_dir=work_dir, hook=the_probe(runner), losses=record.losses)


def test_probes_student_and_each_teacher_once(probed_run):
    hook = probed_run.hook
    # Start, every 2 iterations; stage 2 (distilling) from iteration 4.
    assert [r['step'] for r in hook.history] == [0, 2, 4, 6, 8]
    assert [r['round'] for r in hook.history] == [0, 0, 0, 1, 1]
    assert [r['distilling'] for r in hook.history] == [0, 0, 0, 1, 1]
    assert hook.history[0]['train_loss'] is None
    assert all(r['train_loss'] > 0 for r in hook.history[1:])
    for record in hook.history:
        assert 0 <= record['knn_top1'] <= 100
        assert 0 <= record['linear_top1'] <= 100
        assert record['mae_heldout'] > 0 and record['mae_train'] > 0
    # The teacher is probed once, at the switch: it is the stage-1 encoder
    # after 4 iterations, the one the student probe saw at step 4.
    [teacher] = hook.teacher_history
    assert teacher['step'] == 4
    for key in ('knn_top1', 'linear_top1'):
        assert teacher[key] == hook.history[2][key]
    assert hook.warning is None
    # The student restarted at the switch: best values are stage 2's.
    assert hook.latest == hook.history[-1]
    assert hook.best['mae_heldout']['step'] in (6, 8)
    assert hook.best['mae_heldout']['value'] == min(r['mae_heldout']
                                                    for r in hook.history[3:])
    # Scalars reach the visualizer's scalars.json at their steps.
    scalars = read_scalars(probed_run.work_dir)
    probes = {r['step']: r for r in scalars if 'probe/knn_top1' in r}
    assert sorted(probes) == [0, 2, 4, 6, 8]
    assert probes[6]['probe/mae_heldout'] == hook.history[3]['mae_heldout']
    assert probes[8]['probe/linear_top1'] == hook.history[4]['linear_top1']
    [teacher_line] = [r for r in scalars if 'probe/teacher_knn_top1' in r]
    assert teacher_line['step'] == 4
    # The state is saved under the probe's name.
    state = torch.load(
        probed_run.work_dir / 'iter_8.pth',
        weights_only=True)['representation_probe']
    assert list(state) == ['probe']
    assert state['probe']['history'] == hook.history


def test_teacher_checkpoint_run_probes_its_teacher_at_the_start(
        image_root, init_checkpoint, probe_root, tmp_path):
    runner = Runner.from_cfg(
        make_config(image_root, init_checkpoint, tmp_path,
                    probe_hook(probe_root, image_root),
                    **{'model.teacher_checkpoint': init_checkpoint}))
    hook = the_probe(runner)
    runner.train()
    # Stage 1 is skipped: the run starts at iteration 4, distilling.
    assert [r['step'] for r in hook.history] == [4, 6, 8]
    assert all(r['round'] == 1 for r in hook.history)
    assert [r['step'] for r in hook.teacher_history] == [4]


def test_training_is_the_same_with_and_without_the_probe(
        image_root, init_checkpoint, probed_run, tmp_path):
    runner = Runner.from_cfg(
        make_config(image_root, init_checkpoint, tmp_path))
    record = LossRecordHook()
    runner.register_hook(record)
    runner.train()
    assert len(record.losses) == 8 and record.losses == probed_run.losses
    plain = read_state_dict(str(tmp_path / 'iter_8.pth'))
    probed = read_state_dict(str(probed_run.work_dir / 'iter_8.pth'))
    assert plain.keys() == probed.keys()
    for key in plain:
        assert torch.equal(plain[key], probed[key]), key


@pytest.mark.parametrize('resume_iter', [3, 5])
def test_resume_continues_the_same_curves(image_root, init_checkpoint,
                                          probe_root, probed_run, tmp_path,
                                          resume_iter):
    resumed = Runner.from_cfg(
        make_config(
            image_root,
            init_checkpoint,
            tmp_path / 'resumed',
            probe_hook(probe_root, image_root),
            resume=True,
            load_from=str(probed_run.work_dir / f'iter_{resume_iter}.pth')))
    resumed.train()
    expected, actual = probed_run.hook, the_probe(resumed)
    assert actual.history == expected.history
    assert actual.teacher_history == expected.teacher_history
    assert actual.best == expected.best
    # The resumed run logs only the probes after the checkpoint.
    steps = [
        r['step'] for r in read_scalars(tmp_path / 'resumed')
        if 'probe/knn_top1' in r
    ]
    assert steps == [s for s in (0, 2, 4, 6, 8) if s > resume_iter]


def test_probe_draws_no_random_numbers_and_keeps_modes(image_root,
                                                       init_checkpoint,
                                                       probe_root, tmp_path):
    runner = Runner.from_cfg(
        make_config(image_root, init_checkpoint, tmp_path,
                    probe_hook(probe_root, image_root)))
    hook = the_probe(runner)
    model = runner.model
    model.train()
    hook.before_train(runner)
    modes = [m.training for m in model.modules()]
    torch.manual_seed(7)
    np.random.seed(7)
    random.seed(7)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(7)
    np.random.seed(7)
    random.seed(7)
    hook._probe(runner, 0)
    hook._probe(runner, 1)
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])
    assert random.random() == expected[2]
    assert [m.training for m in model.modules()] == modes
    assert not model.teacher.training and model.backbone.training
    # Every image keeps its mask from probe to probe: same weights, same
    # held-out loss. Another mask seed gives other masks.
    first, second = hook.history
    assert first['mae_heldout'] == second['mae_heldout']
    assert first['knn_top1'] == second['knn_top1']
    other = RepresentationProbeHook(
        interval=2,
        heldout_dataloader=loader(probe_root, 'query'),
        mask_seed=1)
    other.before_train(runner)
    other._probe(runner, 0)
    assert other.history[0]['mae_heldout'] != first['mae_heldout']
    assert 'knn_top1' not in other.history[0]


def test_masking_from_noise_is_mmpretrain_masking():
    encoder = MAEViT(
        arch=dict(
            embed_dims=16, num_layers=1, num_heads=2, feedforward_channels=32),
        img_size=16,
        patch_size=4)
    x = torch.randn(3, 16, 16)
    torch.manual_seed(5)
    expected = encoder.random_masking(x, 0.75)
    torch.manual_seed(5)
    noise = torch.rand(3, 16)
    actual = masking_from_noise(x, noise, 0.75)
    for a, e in zip(actual, expected):
        assert torch.equal(a, e)


def curve_hook(**options) -> RepresentationProbeHook:
    hook = RepresentationProbeHook(
        interval=100, heldout_dataloader=dict(), **options)
    return hook


def feed(hook, heldout=None, knn=None, train=None, distilling=False):
    """Append probe records (one per value) and check after each."""
    count = len(heldout or knn)
    for i in range(count):
        record = dict(
            step=100 * len(hook.history),
            distilling=distilling,
            train_loss=None if not hook.history else train[i])
        if heldout:
            record['mae_heldout'] = heldout[i]
        if knn:
            record['knn_top1'] = knn[i]
        hook.history.append(record)
        hook._check_overfitting(record['step'])


def test_warning_when_heldout_loss_rises_while_training_loss_falls():
    hook = curve_hook()
    feed(
        hook,
        heldout=[0.80, 0.55, 0.57, 0.60, 0.62],
        train=[None, 0.41, 0.30, 0.22, 0.15])
    assert hook.warning is not None and hook.warning['step'] == 400
    text = hook.warning['message']
    assert 'overfitting the target set at iteration 400' in text
    assert 'held-out MAE loss rose to 0.6200, 13% above its minimum ' \
        '0.5500 at iteration 100' in text
    assert 'training loss fell from 0.4100 to 0.1500' in text
    assert 'Self-distillation is the remedy' in text
    assert 'keep the encoder of iteration 100' in text
    # Once only.
    feed(hook, heldout=[0.9], train=[0.1])
    assert hook.warning['step'] == 400


@pytest.mark.parametrize(
    'heldout, train',
    [
        # Rising for only two probes.
        ([0.80, 0.55, 0.60, 0.62], [None, 0.41, 0.30, 0.22]),
        # Above the minimum by less than 5 %.
        ([0.80, 0.55, 0.56, 0.56, 0.57], [None, 0.41, 0.30, 0.22, 0.15]),
        # The training loss rises too: not memorisation.
        ([0.80, 0.55, 0.60, 0.62, 0.64], [None, 0.41, 0.45, 0.50, 0.55]),
    ])
def test_no_warning_without_the_overfitting_pattern(heldout, train):
    hook = curve_hook()
    feed(hook, heldout=heldout, train=train)
    assert hook.warning is None


def test_warning_when_knn_stays_below_its_peak():
    hook = curve_hook(knn_drop=2.0)
    train = [None, 0.5, 0.4, 0.3, 0.2, 0.1]
    feed(hook, knn=[52.2, 56.4, 53.0, 54.6, 53.6], train=train)
    assert hook.warning is None  # 54.6 is within 2 points of the peak
    feed(hook, knn=[53.9], train=[0.1])
    assert hook.warning is None  # two probes below, patience is 3
    feed(hook, knn=[53.0], train=[0.1])
    assert 'kNN top-1 fell to 53.00%, 3.40 points below its peak 56.40% ' \
        'at iteration 100' in hook.warning['message']


def test_no_warning_while_distilling_or_when_off():
    hook = curve_hook()
    feed(
        hook,
        heldout=[0.80, 0.55, 0.57, 0.60, 0.62],
        train=[None, 0.41, 0.30, 0.22, 0.15],
        distilling=True)
    assert hook.warning is None
    hook = curve_hook(warn_overfitting=False)
    feed(
        hook,
        heldout=[0.80, 0.55, 0.57, 0.60, 0.62],
        train=[None, 0.41, 0.30, 0.22, 0.15])
    assert hook.warning is None


def test_bad_settings_are_named(image_root, init_checkpoint, probe_root,
                                tmp_path):
    with pytest.raises(ValueError, match='give both bank_dataloader'):
        RepresentationProbeHook(interval=1, bank_dataloader=dict())
    with pytest.raises(ValueError, match='nothing to probe'):
        RepresentationProbeHook(interval=1)
    with pytest.raises(ValueError, match='interval must be >= 1'):
        RepresentationProbeHook(interval=0, heldout_dataloader=dict())
    with pytest.raises(ValueError, match="got 'pooled'"):
        RepresentationProbeHook(
            interval=1, heldout_dataloader=dict(), representation='pooled')
    # An MAE loss needs an MAE model.
    classifier = SimpleNamespace(
        model=SimpleNamespace(backbone=nn.Linear(2, 2)))
    with pytest.raises(TypeError, match='needs an MAE model'):
        RepresentationProbeHook(
            interval=1,
            heldout_dataloader=loader(probe_root,
                                      'query')).before_train(classifier)
    # kNN needs labels.
    runner = Runner.from_cfg(
        make_config(
            image_root, init_checkpoint, tmp_path,
            probe_hook(
                probe_root,
                image_root,
                query_dataloader=loader(probe_root, 'flat',
                                        with_label=False))))
    with pytest.raises(
            ValueError,
            match='query_dataloader gives samples '
            'without a gt_label'):
        runner.train()


@pytest.mark.e2e
@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU launcher test')
def test_two_processes_gather_the_whole_probe_sets(image_root, init_checkpoint,
                                                   probe_root, tmp_path,
                                                   monkeypatch):
    # A free port: other test runs on the machine may hold the default.
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        monkeypatch.setenv('PORT', str(sock.getsockname()[1]))
    cfg = make_config(
        image_root,
        init_checkpoint,
        tmp_path,
        probe_hook(probe_root, image_root),
        further=1,
        distill=1)
    path = str(tmp_path / 'probe.py')
    cfg.dump(path)
    run(sys.executable, 'tools/train.py', path, '--work-dir',
        str(tmp_path / 'one'))
    log = run(
        'bash',
        'tools/dist_train.sh',
        path,
        '2',
        '--work-dir',
        str(tmp_path / 'two'),
        timeout=900)
    assert 'Distributed training: True' in log.stdout + log.stderr
    # Before any training step both runs hold the same weights: the probe
    # of two processes, each passing half of every set, must give the
    # single-process values.
    one, two = ({
        r['step']: r
        for r in read_scalars(tmp_path / name) if 'probe/knn_top1' in r
    } for name in ('one', 'two'))
    assert sorted(two) == [0, 2]
    for key in ('probe/knn_top1', 'probe/linear_top1'):
        assert two[0][key] == one[0][key]
    for key in ('probe/mae_heldout', 'probe/mae_train'):
        assert two[0][key] == pytest.approx(one[0][key], rel=1e-5)
    state = torch.load(tmp_path / 'two' / 'iter_2.pth', weights_only=True)
    state = state['representation_probe']['probe']
    assert [r['step'] for r in state['history']] == [0, 2]
    [teacher] = state['teacher_history']
    assert teacher['step'] == 1


PROBE_CONFIGS = [
    'configs/demo/sd_vit-tiny-p7_1xb64-1k-500_fashion-mnist-100.py',
    'configs/self_distill/sd-probe_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py',
    'benchmarks/configs/sd_vit-tiny-p7_fashion-mnist_two-probes.py',
]


@pytest.mark.parametrize('config', PROBE_CONFIGS)
def test_config_probes_build(config):
    from mmengine.config import Config
    from mmpretrain.registry import HOOKS
    cfg = Config.fromfile(osp.join(REPO, config))
    probes = [
        HOOKS.build(h) for h in cfg.custom_hooks
        if h['type'] == 'RepresentationProbeHook'
    ]
    assert probes[0].prefix == 'probe'
    assert probes[0].loader_cfgs['bank'] and probes[0].loader_cfgs['heldout']
    # Several probes need their own names.
    assert len({p.prefix for p in probes}) == len(probes)


def test_demo_probes_images_it_never_trains_on():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import DATASETS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO, PROBE_CONFIGS[0]))
    [probe] = [
        h for h in cfg.custom_hooks if h['type'] == 'RepresentationProbeHook'
    ]

    def images(dataset_cfg):
        dataset = DATASETS.build(
            dict(
                dataset_cfg,
                data_root=osp.join(REPO, 'demo_data', 'fashion_mnist')))
        return {
            dataset.get_data_info(i)['img'].tobytes()
            for i in range(len(dataset))
        }

    # The probe fits on the target images with their labels and classifies
    # (and takes the held-out loss on) 1,000 images never trained on.
    target = images(cfg.train_dataloader.dataset)
    assert len(target) == 100
    assert images(probe['bank_dataloader']['dataset']) == target
    assert images(probe['train_eval_dataloader']['dataset']) == target
    query = images(probe['query_dataloader']['dataset'])
    assert len(query) == 1000 and not target & query
    assert images(probe['heldout_dataloader']['dataset']) == query
