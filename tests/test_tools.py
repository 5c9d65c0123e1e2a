# Copyright (c) mmsd contributors. All rights reserved.
"""The tools run as a user runs them: subprocesses on tiny CPU configs."""
import os.path as osp
import re
import sys

import pytest
import torch
from conftest import (FT_CONFIG, REPO, SD_CONFIG, TINY_FT, dist_train, run,
                      tiny_config, two_stage_options, write_images)

from mmsd.utils import save_backbone, select_prefix

pytestmark = pytest.mark.e2e


def sd_config(tmp_path,
              image_root,
              init_checkpoint,
              distill=1,
              **options) -> str:
    cfg = tiny_config(
        SD_CONFIG, **two_stage_options(1, distill), **{
            'model.init_checkpoint': init_checkpoint,
            'train_dataloader.dataset.data_root': image_root,
        }, **options)
    path = str(tmp_path / 'sd_tiny.py')
    cfg.dump(path)
    return path


def test_train_export_finetune_and_test(tmp_path, image_root, init_checkpoint):
    work = tmp_path / 'sd'
    run(sys.executable, 'tools/train.py',
        sd_config(tmp_path, image_root, init_checkpoint), '--work-dir',
        str(work))
    assert osp.isfile(work / 'iter_2.pth')
    # The exporter gives the same tensors as the hook.
    exported = str(tmp_path / 'student.pth')
    out = run(sys.executable, 'tools/export_backbone.py',
              str(work / 'iter_2.pth'), exported).stdout
    assert 'Wrote 30 tensors (student)' in out
    hook_file = torch.load(work / 'sd_backbone.pth', weights_only=True)
    tool_file = torch.load(exported, weights_only=True)
    for key, value in hook_file['state_dict'].items():
        torch.testing.assert_close(tool_file['state_dict'][key], value)

    ft = tiny_config(
        FT_CONFIG, TINY_FT, **{
            'model.backbone_checkpoint': str(work / 'sd_backbone.pth'),
            'train_dataloader.dataset.data_root': image_root,
            'val_dataloader.dataset.data_root': image_root,
            'test_dataloader.dataset.data_root': image_root,
            'train_cfg.max_iters': 2,
            'train_cfg.val_interval': 2,
            'param_scheduler': [],
        })
    ft_path = str(tmp_path / 'ft_tiny.py')
    ft.dump(ft_path)
    ft_work = tmp_path / 'ft'
    log = run(sys.executable, 'tools/train.py', ft_path, '--work-dir',
              str(ft_work)).stdout
    assert 'Loaded 30 tensors of the backbone' in log
    assert 'all keys matched' in log
    result = run(sys.executable, 'tools/test.py', ft_path,
                 str(ft_work / 'iter_2.pth'), '--work-dir',
                 str(tmp_path / 'test'))
    assert 'accuracy/top1:' in result.stdout + result.stderr


def test_missing_dataset_says_where_to_put_it():
    result = run(
        sys.executable,
        'tools/train.py',
        'configs/sd_vit-b_cub.py',
        '--cfg-options',
        'train_dataloader.dataset.data_root=data/nowhere',
        check=False)
    assert result.returncode != 0
    assert "the CUB dataset is not at data_root='data/nowhere'" in \
        result.stderr
    assert 'README.md' in result.stderr


def test_corrupt_image_is_named(tmp_path, init_checkpoint):
    root = write_images(str(tmp_path / 'data' / 'train'), per_class=2)
    with open(osp.join(root, 'a', 'broken.png'), 'wb') as f:
        f.write(b'\x89PNG not really')
    result = run(
        sys.executable,
        'tools/train.py',
        sd_config(tmp_path, str(tmp_path / 'data'), init_checkpoint),
        '--work-dir',
        str(tmp_path / 'work'),
        check=False)
    assert result.returncode != 0
    assert 'failed to load image' in result.stderr
    assert 'broken.png' in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU launcher test')
def test_dist_train_two_cpu_processes(tmp_path, image_root, init_checkpoint):
    work = tmp_path / 'dist'
    log = dist_train(
        sd_config(tmp_path, image_root, init_checkpoint, distill=3), work)
    assert osp.isfile(work / 'iter_4.pth')
    state = torch.load(work / 'iter_4.pth', weights_only=True)['state_dict']
    assert 'teacher.cls_token' in state
    # Each rank caches the samples of its own shard (rank 0 logs): 3
    # distillation iterations of 4 images, at most 12 distinct ones.
    assert 'Teacher-feature cache on' in log
    summary = re.search(
        r'Teacher-feature cache: (\d+) entries .* (\d+) '
        r'hits / (\d+) misses', log)
    entries, hits, misses = map(int, summary.groups())
    assert entries == misses and hits + misses == 12 and hits > 0


def test_tensorboard_from_the_command_line(tmp_path):
    """The README's command line writes a TensorBoard event file (and the
    usual scalars.json) in a 2-iteration run."""
    pytest.importorskip('tensorboard')
    run(sys.executable, 'tools/train.py',
        'configs/demo/ft_vit-tiny-p7_1xb64-1k_fashion-mnist.py', '--work-dir',
        str(tmp_path), '--cfg-options',
        'visualizer.vis_backends=[LocalVisBackend,TensorboardVisBackend]',
        'model.backbone_checkpoint=None', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=100', 'default_hooks.logger.interval=1')
    (events, ) = tmp_path.glob('*/vis_data/events.out.tfevents.*')
    assert osp.getsize(events) > 0
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    accumulator = EventAccumulator(str(events.parent))
    accumulator.Reload()
    assert [e.step for e in accumulator.Scalars('loss')] == [1, 2]
    assert list(tmp_path.glob('*/vis_data/scalars.json'))


def test_readme_loads_an_export_into_plain_mmpretrain(tmp_path,
                                                      init_checkpoint):
    """The README's snippet, run without mmsd, loads sd_backbone.pth into
    MMPretrain's VisionTransformer with every key matched (on the tiny
    encoder of the tests instead of ViT-B)."""
    with open(osp.join(REPO, 'README.md')) as f:
        readme = f.read()
    (snippet, ) = [
        block.split('```')[0] for block in readme.split('```python\n')[1:]
        if 'revise_keys' in block
    ]
    exported = str(tmp_path / 'sd_backbone.pth')
    state = torch.load(init_checkpoint, weights_only=True)['state_dict']
    save_backbone(select_prefix(state, 'backbone.', 'init'), exported)
    tiny = ("VisionTransformer(arch=dict(embed_dims=64, num_layers=2, "
            "num_heads=4, feedforward_channels=128), img_size=32, "
            "patch_size=8)")
    code = snippet.replace("VisionTransformer(arch='b', patch_size=16)", tiny)
    code = code.replace(
        "'work_dirs/sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub/sd_backbone.pth'",
        repr(exported))
    assert code.count(tiny) == 1 and code.count(exported) == 1
    check = (f'\nimport sys, torch\nassert "mmsd" not in sys.modules\n'
             f'state = torch.load({exported!r})["state_dict"]\n'
             'for key, value in vit.state_dict().items():\n'
             '    assert torch.equal(value, state["backbone." + key]), key\n'
             'print("loaded", len(vit.state_dict()))\n')
    out = run(sys.executable, '-c', code + check).stdout
    assert 'loaded 30' in out
