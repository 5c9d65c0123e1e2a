# Copyright (c) mmsd contributors. All rights reserved.
"""KDEP's tools run as a user runs them: subprocesses on a tiny CPU config
(the offline Fashion-MNIST config on 100 embedded images)."""
import os.path as osp
import sys

import pytest
import torch
from conftest import REPO, free_port, run
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from mmsd.kdep import SVDBasis, build_basis_dataloader, compute_basis_file
from mmsd.utils import save_backbone

KDEP_CONFIG = osp.join(
    REPO, 'configs', 'kdep',
    'kdep_vit-tiny-p7-vit-mini-p7_1xb64-1k_fashion-mnist.py')


def run_log(*args, timeout=300) -> str:
    result = run(*args, timeout=timeout)
    return result.stdout + result.stderr


@pytest.fixture
def kdep_config(tmp_path) -> str:
    """The offline KDEP config on 100 images, with a random teacher saved
    as a tensors-only checkpoint and 2 training iterations."""
    cfg = Config.fromfile(KDEP_CONFIG)
    torch.manual_seed(0)
    teacher = MODELS.build(cfg.model.teacher)
    teacher.init_weights()
    teacher_file = str(tmp_path / 'teacher.pth')
    save_backbone(teacher.state_dict(), teacher_file)
    dataset = dict(
        type='IdxImageDataset',
        data_root=osp.join(REPO, 'demo_data', 'fashion_mnist'),
        split='train',
        num_per_class=10,
        pipeline=[dict(type='PackInputs')])
    cfg.merge_from_dict({
        'model.teacher_checkpoint': teacher_file,
        'model.basis_file': str(tmp_path / 'basis.pth'),
        'train_dataloader.batch_size': 8,
        'train_dataloader.dataset': dataset,
        'svd_basis_dataloader.batch_size': 16,
        'svd_basis_dataloader.dataset': dataset,
        'train_cfg.max_iters': 2,
        'param_scheduler': [],
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 2,
    })
    path = str(tmp_path / 'kdep_tiny.py')
    cfg.dump(path)
    return path


@pytest.mark.e2e
@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU launcher test')
def test_basis_tool_gives_the_same_file_with_1_and_2_processes(
        tmp_path, kdep_config):
    one, two = str(tmp_path / 'one.pth'), str(tmp_path / 'two.pth')
    # 91 images: 46 per process, the padded last one dropped.
    log = run_log(sys.executable, 'tools/compute_svd_basis.py', kdep_config,
                  '--out', one, '--max-samples', '91')
    assert f'(k=64, D=128) to {one}' in log
    log = run_log(sys.executable, '-m', 'torch.distributed.run',
                  '--nproc_per_node=2', f'--master_port={free_port()}',
                  'tools/compute_svd_basis.py', kdep_config, '--launcher',
                  'pytorch', '--out', two, '--max-samples', '91')
    assert log.count('Wrote the SVD basis') == 1  # rank 0 only
    first = torch.load(one, weights_only=True)
    second = torch.load(two, weights_only=True)
    assert set(first) == set(second) == {
        'mean', 'components', 'singular_values', 'num_samples'
    }
    assert int(first['num_samples']) == int(second['num_samples']) == 91
    assert first['components'].shape == (64, 128)
    for key in first:
        torch.testing.assert_close(second[key], first[key])


@pytest.mark.e2e
def test_train_computes_the_basis_and_runs_two_iterations(
        tmp_path, kdep_config):
    work = tmp_path / 'work'
    basis = tmp_path / 'basis.pth'
    assert not basis.exists()
    log = run_log(sys.executable, 'tools/train.py', kdep_config, '--work-dir',
                  str(work))
    assert 'not found: computing it with the teacher' in log
    assert 'Loaded 54 tensors of the teacher' in log
    assert 'all keys matched' in log
    assert 'loss_kdep:' in log
    saved = torch.load(basis, weights_only=True)
    assert int(saved['num_samples']) == 100
    assert saved['components'].shape == (64, 128)
    assert osp.isfile(work / 'iter_2.pth')
    student = torch.load(work / 'kdep_student.pth', weights_only=True)
    assert 'backbone.cls_token' in student['state_dict']
    assert not any(
        k.startswith('backbone.teacher') for k in student['state_dict'])
    state = torch.load(work / 'iter_2.pth', weights_only=True)['state_dict']
    assert 'teacher.cls_token' in state


def test_basis_is_that_of_the_first_teacher_features(tmp_path, kdep_config):
    """In-process: the shared function (used by the tool and the hook)
    computes the basis of the teacher features of the first images."""
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(kdep_config)
    model = MODELS.build(cfg.model)
    model.init_weights()
    loader = build_basis_dataloader(cfg, batch_size=16)
    path = str(tmp_path / 'first70.pth')
    basis = compute_basis_file(model, loader, path, max_samples=70)
    assert int(basis.num_samples) == 70
    first = default_collate([loader.dataset[i] for i in range(70)])
    inputs = model.data_preprocessor(first, False)['inputs']
    inputs = inputs[0] if isinstance(inputs, list) else inputs
    expected = SVDBasis.compute(model.extract_teacher_feat(inputs), k=64)
    for key in ('mean', 'components', 'singular_values'):
        torch.testing.assert_close(getattr(basis, key), getattr(expected, key))
