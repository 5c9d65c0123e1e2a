# Copyright (c) mmsd contributors. All rights reserved.
"""Bad inputs and faults: each ends in a clear error naming the culprit, raised
before any compute where the input can be checked up front, or in an exact
result (issue 14). One parametrised test per family: images, idx files, text
files, checkpoints, config values, resume after kill."""
import gzip
import json
import os
import os.path as osp
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
from typing import Callable, Dict
from unittest import mock

import numpy as np
import pytest
import torch
from conftest import (FT_CONFIG, REPO, SD_CONFIG, TINY_FT,
                      save_tiny_text_model, tiny_config, two_stage_options,
                      write_images, write_text_data)
from mmengine.config import Config
from mmengine.runner import Runner

from mmsd.datasets import IdxImageDataset
from mmsd.models.utils import CheckpointMismatchError
from mmsd.utils import atomic_directory, prepare_resume, save_backbone

TEXT_FT_CONFIG = osp.join(REPO, 'configs', 'demo', 'text',
                          'ft_minilm-l6_1xb16-200_rotten-tomatoes.py')


def raises(action: Callable, error: type, *names: str) -> str:
    """Run ``action``; assert it raises ``error`` whose message contains
    each of ``names``; return the message."""
    with pytest.raises(error) as info:
        action()
    message = str(info.value)
    for name in names:
        assert name in message, f'{name!r} not in: {message}'
    return message


def no_compute(work_dir) -> None:
    """No training iteration ran: nothing was saved."""
    assert not [n for n in os.listdir(work_dir) if n.endswith('.pth')]


def sd_runner(work_dir,
              image_root,
              init_checkpoint,
              further=1,
              distill=1,
              **options) -> Runner:
    cfg = tiny_config(
        SD_CONFIG, **{
            **two_stage_options(further, distill),
            'model.init_checkpoint': init_checkpoint,
            'train_dataloader.dataset.data_root': image_root,
            'work_dir': str(work_dir),
            **options,
        })
    return Runner.from_cfg(cfg)


def ft_runner(work_dir, image_root, **options) -> Runner:
    cfg = tiny_config(
        FT_CONFIG, TINY_FT, **{
            'model.backbone_checkpoint': None,
            'train_dataloader.dataset.data_root': image_root,
            'val_dataloader.dataset.data_root': image_root,
            'test_dataloader.dataset.data_root': image_root,
            'train_cfg.max_iters': 1,
            'train_cfg.val_interval': 1,
            'param_scheduler': [],
            'work_dir': str(work_dir),
            **options,
        })
    return Runner.from_cfg(cfg)


# ---------------------------------------------------------------- images


def image_empty_file(tmp_path, init_checkpoint):
    root = tmp_path / 'data'
    write_images(str(root / 'train'), per_class=2)
    (root / 'train' / 'a' / 'empty.png').write_bytes(b'')
    runner = sd_runner(tmp_path / 'work', str(root), init_checkpoint)
    raises(runner.train, ValueError, 'train_dataloader',
           str(root / 'train' / 'a' / 'empty.png'), 'empty (0-byte)')
    no_compute(tmp_path / 'work')


def image_listed_but_missing(tmp_path, init_checkpoint):
    root = tmp_path / 'data'
    write_images(str(root / 'train'), per_class=2)
    (root / 'ann.txt').write_text('a/0.png 0\nb/0.png 1\na/gone.png 0\n')
    runner = ft_runner(
        tmp_path / 'work', str(root), **{
            'train_dataloader.dataset.ann_file': 'ann.txt',
            'train_dataloader.dataset.classes': ['a', 'b'],
        })
    raises(runner.train, FileNotFoundError, 'do not exist',
           str(root / 'train' / 'a' / 'gone.png'))
    no_compute(tmp_path / 'work')


def image_label_outside_classes(tmp_path, init_checkpoint):
    root = tmp_path / 'data'
    write_images(str(root / 'train'), per_class=2)
    (root / 'ann.txt').write_text('a/0.png 0\nb/0.png 1\nb/1.png 5\n')
    runner = ft_runner(tmp_path / 'work', str(root),
                       **{'train_dataloader.dataset.ann_file': 'ann.txt'})
    raises(runner.train, ValueError, 'train_dataloader', 'ann.txt',
           'record 2 (label 5)', 'outside the 2 classes')
    no_compute(tmp_path / 'work')


def image_undecodable(tmp_path, init_checkpoint):
    # Only decoding finds it: named when the first batch loads it.
    root = tmp_path / 'data'
    write_images(str(root / 'train'), per_class=1)
    (root / 'train' / 'a' / 'junk.png').write_bytes(b'\x89PNG not really')
    runner = sd_runner(tmp_path / 'work', str(root), init_checkpoint,
                       **{'train_dataloader.batch_size': 3})
    raises(runner.train, AssertionError, 'failed to load image', 'junk.png')
    no_compute(tmp_path / 'work')


IMAGE_CASES = {
    'empty file': image_empty_file,
    'listed but missing': image_listed_but_missing,
    'label outside classes': image_label_outside_classes,
    'undecodable file': image_undecodable,
}


@pytest.mark.parametrize('case', IMAGE_CASES)
def test_images(case, tmp_path, init_checkpoint):
    IMAGE_CASES[case](tmp_path, init_checkpoint)


# ------------------------------------------------------------- idx files


def idx_bytes(array: np.ndarray) -> bytes:
    return struct.pack('>BBBB', 0, 0, 8, array.ndim) + struct.pack(
        f'>{array.ndim}I', *array.shape) + array.astype(np.uint8).tobytes()


def write_idx(root, images: bytes, labels: bytes) -> None:
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, 'train-images-idx3-ubyte.gz'), 'wb') as f:
        f.write(gzip.compress(images))
    with open(osp.join(root, 'train-labels-idx1-ubyte.gz'), 'wb') as f:
        f.write(gzip.compress(labels))


IMAGES = np.arange(6 * 4 * 4).reshape(6, 4, 4) % 256
LABELS = np.array([0, 1, 2, 0, 1, 2])


def idx_truncated_gz(root):
    write_idx(root, idx_bytes(IMAGES), idx_bytes(LABELS))
    path = osp.join(root, 'train-images-idx3-ubyte.gz')
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 2])
    return path, 'truncated or corrupt'


def idx_corrupt_gz(root):
    write_idx(root, idx_bytes(IMAGES), idx_bytes(LABELS))
    path = osp.join(root, 'train-images-idx3-ubyte.gz')
    data = bytearray(open(path, 'rb').read())
    data[12:40] = bytes(b ^ 0xFF for b in data[12:40])
    open(path, 'wb').write(bytes(data))
    return path, 'truncated or corrupt'


def idx_short_header(root):
    write_idx(root, idx_bytes(IMAGES), b'\x00\x00\x08\x01\x00\x00')
    return osp.join(root, 'train-labels-idx1-ubyte.gz'), 'header'


def idx_short_body(root):
    write_idx(root, idx_bytes(IMAGES)[:-5], idx_bytes(LABELS))
    return osp.join(root, 'train-images-idx3-ubyte.gz'), 'truncated'


def idx_label_outside_classes(root):
    write_idx(root, idx_bytes(IMAGES), idx_bytes(np.array([0, 1, 2, 0, 7, 2])))
    return osp.join(root, 'train-labels-idx1-ubyte.gz'), 'label 7 of record 4'


IDX_CASES = {
    'truncated gz': idx_truncated_gz,
    'corrupt gz': idx_corrupt_gz,
    'header cut short': idx_short_header,
    'body cut short': idx_short_body,
    'label outside classes': idx_label_outside_classes,
}


@pytest.mark.parametrize('case', IDX_CASES)
def test_idx_files(case, tmp_path):
    path, what = IDX_CASES[case](str(tmp_path))
    raises(
        lambda: IdxImageDataset(
            str(tmp_path), classes=('x', 'y', 'z'), pipeline=[]), ValueError,
        path, what)


# ------------------------------------------------------------ text files


def strip_vocabulary(model_dir, dst, keep_config=True):
    shutil.copytree(model_dir, dst)
    for name in ('vocab.txt', 'vocab.json', 'merges.txt', 'tokenizer.json'):
        if osp.exists(osp.join(dst, name)):
            os.remove(osp.join(dst, name))
    if not keep_config:
        for name in ('config.json', 'model.safetensors'):
            os.remove(osp.join(dst, name))
    return str(dst)


def text_model_without_vocabulary(tmp_path, model_type):
    from mmsd.text import load_tokenizer
    model = save_tiny_text_model(str(tmp_path / 'full'), model_type)
    folder = strip_vocabulary(model, tmp_path / 'stripped')
    needed = 'vocab.txt' if model_type == 'bert' else 'merges.txt'
    raises(lambda: load_tokenizer(folder), ValueError, folder,
           'has only 5 tokens', 'vocab_size=', needed, 'config.json')


def text_tokenizer_without_vocabulary(tmp_path, model_type):
    from mmsd.text import load_tokenizer
    model = save_tiny_text_model(str(tmp_path / 'full'), model_type)
    folder = strip_vocabulary(model, tmp_path / 'tok', keep_config=False)
    raises(lambda: load_tokenizer(folder), ValueError, folder, 'probe text',
           'vocabulary is missing')


def text_misspelt_label_column(tmp_path, model_type):
    from mmsd.text.datasets import TextDataset
    path = tmp_path / 'train.tsv'
    path.write_text('sentence\tlable\ngood fun\tpos\nawful\tneg\n')
    raises(
        lambda: TextDataset(
            str(path), text_key='sentence', classes=('neg', 'pos')),
        ValueError, str(path), "label_key='label'", "'lable'")


def text_label_outside_classes(tmp_path, model_type):
    model = save_tiny_text_model(str(tmp_path / 'model'), model_type)
    root = write_text_data(str(tmp_path / 'data'), per_class=2)
    lines = open(osp.join(root, 'train.jsonl')).read().splitlines()
    records = [json.loads(line) for line in lines]
    for i, record in enumerate(records):
        record['label'] = 12 if i == 2 else i % 2
    with open(osp.join(root, 'train.jsonl'), 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in records)
    cfg = Config.fromfile(TEXT_FT_CONFIG)
    cfg.merge_from_dict({
        'model.model_name_or_path': model,
        'train_dataloader.dataset.data_root': root,
        'train_dataloader.dataset.classes': None,
        'train_dataloader.batch_size': 2,
        'train_cfg.max_iters': 1,
        'work_dir': str(tmp_path / 'work'),
    })
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    runner = Runner.from_cfg(cfg)
    raises(runner.train, ValueError, 'train.jsonl', 'record 2 (label 12)',
           'outside the 2 classes')
    no_compute(tmp_path / 'work')


def text_broken_json_line(tmp_path, model_type):
    from mmsd.text.datasets import TextDataset
    path = tmp_path / 'train.jsonl'
    path.write_text('{"text": "good", "label": 1}\n{"text": "bad", \n')
    raises(lambda: TextDataset(str(path)), ValueError, str(path), 'line 2')


TEXT_CASES = {
    'model folder without vocabulary (bert)':
    (text_model_without_vocabulary, 'bert'),
    'model folder without vocabulary (roberta)':
    (text_model_without_vocabulary, 'roberta'),
    'tokenizer folder without vocabulary':
    (text_tokenizer_without_vocabulary, 'bert'),
    'misspelt label column in a TSV': (text_misspelt_label_column, 'bert'),
    'label outside the classifier\'s classes':
    (text_label_outside_classes, 'bert'),
    'broken JSON line': (text_broken_json_line, 'bert'),
}


@pytest.mark.parametrize('case', TEXT_CASES)
def test_text_files(case, tmp_path):
    check, model_type = TEXT_CASES[case]
    check(tmp_path, model_type)


# ----------------------------------------------------------- checkpoints


def write_checkpoints(work_dir, count=2) -> list:
    """``iter_1.pth`` .. ``iter_{count}.pth`` (zip files, as torch writes
    them) and ``last_checkpoint`` pointing to the last."""
    os.makedirs(work_dir, exist_ok=True)
    paths = []
    for i in range(1, count + 1):
        path = osp.join(work_dir, f'iter_{i}.pth')
        torch.save(dict(state_dict=dict(w=torch.full((64, ), float(i)))), path)
        paths.append(path)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(paths[-1])
    return paths


def truncate(path) -> None:
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 2])


def resume_config(work_dir, load_from=None) -> Config:
    return Config(
        dict(work_dir=str(work_dir), resume=True, load_from=load_from))


def ckpt_partial_model_for_testing(tmp_path, image_root, init_checkpoint):
    path = str(tmp_path / 'backbone.pth')
    runner = ft_runner(tmp_path / 'work', image_root, load_from=path)
    save_backbone(runner.model.backbone.state_dict(), path)
    raises(runner.test, CheckpointMismatchError, path, 'missing keys (2)',
           'head.fc.weight', 'model.backbone_checkpoint')


def ckpt_truncated_named_for_resume(tmp_path, image_root, init_checkpoint):
    first, second = write_checkpoints(tmp_path)
    truncate(second)
    raises(lambda: prepare_resume(resume_config(tmp_path, second)),
           RuntimeError, second, 'truncated', f'intact checkpoint beside '
           f'it is {first!r}')


def ckpt_damaged_record_named(tmp_path, image_root, init_checkpoint):
    first, second = write_checkpoints(tmp_path)
    data = bytearray(open(second, 'rb').read())
    start = data.index(b'data/0') + 100  # inside the tensor's bytes
    data[start:start + 8] = bytes(8)
    open(second, 'wb').write(bytes(data))
    raises(lambda: prepare_resume(resume_config(tmp_path, second)),
           RuntimeError, second, 'damaged (CRC mismatch)')


def ckpt_written_without_mmsd(tmp_path, image_root, init_checkpoint):
    from mmengine.logging import HistoryBuffer, MessageHub
    runner = ft_runner(tmp_path / 'work', image_root)
    hub = MessageHub.get_instance('written_without_mmsd')
    hub.update_scalar('train/loss', 1.0)
    path = str(tmp_path / 'plain_mmengine.pth')
    # What MMEngine saves when mmsd is not imported: its own
    # HistoryBuffer.__getstate__ adds the statistics methods.
    with mock.patch.object(
            HistoryBuffer, '__getstate__', lambda self: dict(
                self.__dict__, statistics_methods=self._statistics_methods)):
        torch.save(
            dict(
                meta=dict(iter=1),
                state_dict=runner.model.state_dict(),
                message_hub=hub.state_dict()), path)
    raises(lambda: runner.load_checkpoint(path), RuntimeError, path,
           'run getattr', 'when mmsd is not imported',
           'README.md, "Checked, safe checkpoint loading"')


def ckpt_truncated_loaded_by_runner(tmp_path, image_root, init_checkpoint):
    runner = ft_runner(tmp_path / 'work', image_root)
    path = str(tmp_path / 'iter_1.pth')
    torch.save(dict(state_dict=runner.model.state_dict()), path)
    truncate(path)
    raises(lambda: runner.load_checkpoint(path), RuntimeError, path,
           'truncated')


def ckpt_auto_resume_skips_truncated(tmp_path, image_root, init_checkpoint):
    first, second = write_checkpoints(tmp_path)
    truncate(second)
    partial = tmp_path / '.iter_3.pth.x1y2.tmp'  # a killed atomic write
    partial.write_bytes(b'PK\x03\x04')
    cfg = resume_config(tmp_path)
    prepare_resume(cfg)
    assert cfg.load_from == first and cfg.resume
    assert not partial.exists()


def ckpt_auto_resume_empty_last_checkpoint(tmp_path, image_root,
                                           init_checkpoint):
    first, second = write_checkpoints(tmp_path)
    os.remove(second)
    open(tmp_path / 'last_checkpoint', 'w').close()
    cfg = resume_config(tmp_path)
    prepare_resume(cfg)
    assert cfg.load_from == first


def ckpt_auto_resume_nothing_intact(tmp_path, image_root, init_checkpoint):
    (only, ) = write_checkpoints(tmp_path, count=1)
    truncate(only)
    cfg = resume_config(tmp_path)
    prepare_resume(cfg)
    assert cfg.load_from is None and not cfg.resume  # a fresh start


def nan_from(runner, iteration: int) -> None:
    """Make the loss NaN from the ``iteration``-th call on (1-based)."""
    loss, calls = runner.model.head.loss, []

    def patched(*args, **kwargs):
        calls.append(1)
        value = loss(*args, **kwargs)
        return value * float('nan') if len(calls) >= iteration else value

    runner.model.head.loss = patched


def ckpt_nan_stop_without_checkpoint(tmp_path, image_root, init_checkpoint):
    runner = sd_runner(tmp_path / 'work', image_root, init_checkpoint)
    nan_from(runner, 1)
    raises(runner.train, FloatingPointError, 'Iteration 1', 'loss_mae=nan',
           'no checkpoint was saved in', str(tmp_path / 'work'))


def ckpt_nan_stop_names_checkpoint(tmp_path, image_root, init_checkpoint):
    runner = sd_runner(tmp_path / 'work', image_root, init_checkpoint)
    nan_from(runner, 2)
    raises(runner.train, FloatingPointError, 'Iteration 2',
           str(tmp_path / 'work' / 'iter_1.pth'))


def ckpt_writer_killed_mid_write(tmp_path, image_root, init_checkpoint):
    path = tmp_path / 'sd_backbone.pth'
    path.write_bytes(b'old')
    writer = launch([
        sys.executable, '-c', 'import time\n'
        'from mmsd.utils import atomic_write\n'
        f'with atomic_write({str(path)!r}) as f:\n'
        "    f.write(b'new' * 1000)\n"
        '    f.flush()\n'
        "    print('HALF WRITTEN', flush=True)\n"
        '    time.sleep(300)\n'
    ], tmp_path)
    kill_when(writer, 'HALF WRITTEN')
    assert path.read_bytes() == b'old'  # never half a file
    (partial, ) = [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]
    assert partial.startswith('.sd_backbone.pth.')


def ckpt_exported_folder_error_mid_write(tmp_path, image_root,
                                         init_checkpoint):
    folder = tmp_path / 'sd'
    folder.mkdir()
    (folder / 'config.json').write_text('old')
    with pytest.raises(OSError):
        with atomic_directory(str(folder)) as tmp:
            open(osp.join(tmp, 'config.json'), 'w').write('new')
            raise OSError('disk full')
    assert os.listdir(tmp_path) == ['sd']
    assert (folder / 'config.json').read_text() == 'old'
    with atomic_directory(str(folder)) as tmp:
        open(osp.join(tmp, 'config.json'), 'w').write('new')
    assert os.listdir(tmp_path) == ['sd']
    assert (folder / 'config.json').read_text() == 'new'


CHECKPOINT_CASES = {
    'partial model given to test': ckpt_partial_model_for_testing,
    'truncated, named by --resume': ckpt_truncated_named_for_resume,
    'damaged record, named by --resume': ckpt_damaged_record_named,
    'written by MMEngine without mmsd': ckpt_written_without_mmsd,
    'truncated, loaded by the runner': ckpt_truncated_loaded_by_runner,
    'truncated newest, --resume alone': ckpt_auto_resume_skips_truncated,
    'empty last_checkpoint, --resume alone':
    ckpt_auto_resume_empty_last_checkpoint,
    'nothing intact, --resume alone': ckpt_auto_resume_nothing_intact,
    'NaN stop, no checkpoint yet': ckpt_nan_stop_without_checkpoint,
    'NaN stop after a checkpoint': ckpt_nan_stop_names_checkpoint,
    'exported file, writer killed mid-write': ckpt_writer_killed_mid_write,
    'exported folder, error mid-write': ckpt_exported_folder_error_mid_write,
}
# Cases that start a subprocess.
E2E = ('exported file, writer killed mid-write', )


@pytest.mark.parametrize('case', [
    pytest.param(case, marks=pytest.mark.e2e) if case in E2E else case
    for case in CHECKPOINT_CASES
])
def test_checkpoints(case, tmp_path, image_root, init_checkpoint):
    CHECKPOINT_CASES[case](tmp_path, image_root, init_checkpoint)


# --------------------------------------------------------- config values


def build_sd_model(init_checkpoint, **options):
    from mmpretrain.registry import MODELS
    cfg = tiny_config(SD_CONFIG, **options).model
    cfg.init_checkpoint = init_checkpoint
    return MODELS.build(cfg)


def value_distill_weight(weight, error, *names):

    def check(tmp_path, image_root, init_checkpoint):
        raises(
            lambda: build_sd_model(
                init_checkpoint, **{'model.distill_head.loss_weight': weight}),
            error, 'SelfDistillHead', 'loss_weight', *names)

    return check


def value_head_classes(tmp_path, image_root, init_checkpoint):
    runner = ft_runner(
        tmp_path / 'work', image_root, **{
            'model.head.num_classes': 5,
            'data_preprocessor.num_classes': 5
        })
    raises(runner.train, ValueError, 'train_dataloader', "('a', 'b')",
           'predicts 5', 'num_classes')
    no_compute(tmp_path / 'work')


def value_switch_without_schedules(tmp_path, image_root, init_checkpoint):
    runner = sd_runner(
        tmp_path / 'work',
        image_root,
        init_checkpoint,
        further=2,
        distill=2,
        **{'custom_hooks': [dict(type='SelfDistillStageHook', switch_iter=1)]})
    raises(runner.train, ValueError, 'switch_iter=1',
           'a schedule runs across it', 'LinearLR(lr) [0, 2)',
           'LinearLR(lr) [2, 4)', 'custom_hooks.0.switch_iter')
    no_compute(tmp_path / 'work')


VALUE_CASES = {
    'negative distillation weight':
    value_distill_weight(-1, ValueError, '-1', 'reward'),
    'distillation weight not a number':
    value_distill_weight('abc', TypeError, "'abc'"),
    'distillation weight NaN':
    value_distill_weight(float('nan'), ValueError, 'nan'),
    'head with more classes than the data':
    value_head_classes,
    'switch_iter moved without the schedules':
    value_switch_without_schedules,
}


@pytest.mark.parametrize('case', VALUE_CASES)
def test_config_values(case, tmp_path, image_root, init_checkpoint):
    VALUE_CASES[case](tmp_path, image_root, init_checkpoint)


# ------------------------------------------------------ resume after kill

# Imported by the killed runs: stalls the rename that completes the
# checkpoint file named in MMSD_TEST_STALL_WRITE, after announcing it, so
# that the test kills the run in the middle of writing it.
STALL_PLUGIN = '''
import os
import sys
import time

_replace = os.replace


def _stalling_replace(src, dst, *args, **kwargs):
    target = os.environ.get('MMSD_TEST_STALL_WRITE')
    if target and str(dst).endswith(os.sep + target):
        print('STALLED WRITING', dst, flush=True)
        time.sleep(300)  # killed long before
    return _replace(src, dst, *args, **kwargs)


os.replace = _stalling_replace
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def launch(command, plugin_dir, **env) -> subprocess.Popen:
    """Start a tool as a user would."""
    environment = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PORT=str(free_port()),
        PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'],
        PYTHONPATH=os.pathsep.join(
            [str(plugin_dir), REPO,
             os.environ.get('PYTHONPATH', '')]),
        **env)
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)


def finish(process: subprocess.Popen, timeout: int = 300) -> str:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(process)
        raise
    assert process.returncode == 0, output[-4000:]
    return output


def descendants(pid: int) -> list:
    """``pid`` and all processes below it (torchrun starts each worker in
    a session of its own, so a process group does not hold them)."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as f:
                    # The command may hold spaces: the fields after ')'.
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL ``process`` and every process it started, at once."""
    for pid in descendants(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=60)


def kill_when(process: subprocess.Popen,
              marker: str,
              timeout: int = 300) -> str:
    """SIGKILL the run, every process of it, as soon as ``marker`` is
    printed."""
    lines, seen = [], threading.Event()

    def read():
        for line in process.stdout:
            lines.append(line)
            if marker in line:
                seen.set()
        seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen.wait(timeout)
    kill_tree(process)
    reader.join(timeout=60)
    output = ''.join(lines)
    assert marker in output, f'{marker!r} never came:\n{output[-4000:]}'
    return output


def logged_losses(work_dir, last_run_only: bool = False) -> Dict[int, float]:
    """The training losses a work_dir's runs logged, by iteration (of its
    last run only, with ``last_run_only``)."""
    runs = sorted(
        osp.join(work_dir, d, 'vis_data', 'scalars.json')
        for d in os.listdir(work_dir)
        if osp.isfile(osp.join(work_dir, d, 'vis_data', 'scalars.json')))
    found = {}
    for scalars in runs[-1:] if last_run_only else runs:
        with open(scalars) as f:
            records = [json.loads(line) for line in f]
        found.update((r['iter'], r['loss']) for r in records if 'loss' in r)
    return found


def kill_config(tmp_path,
                image_root,
                init_checkpoint,
                stage2_only,
                rounds=1) -> str:
    """2 + rounds x 3 iterations, a checkpoint after each, importing the
    plugin."""
    options = {
        **two_stage_options(2, 3, rounds),
        'model.init_checkpoint': init_checkpoint,
        'train_dataloader.dataset.data_root': image_root,
        'custom_imports.imports': ['mmsd', 'stall_plugin'],
    }
    if stage2_only:
        options['model.teacher_checkpoint'] = init_checkpoint
    path = str(tmp_path / 'kill_tiny.py')
    tiny_config(SD_CONFIG, **options).dump(path)
    return path


KILL_CASES = {
    # case: (processes, stage 2 only, rounds, what the killed run must
    # print, the checkpoint it stalls writing)
    'two stages, 1 process, killed writing a checkpoint':
    (1, False, 1, 'STALLED WRITING', 'iter_3.pth'),
    'stage 2 only, 1 process, killed after an iteration':
    (1, True, 1, 'Iter(train) [3/5]', 'iter_3.pth'),
    'two stages, dist_train.sh 2 processes, killed writing a checkpoint':
    (2, False, 1, 'STALLED WRITING', 'iter_4.pth'),
    # Round 2 is [5, 8): resumed from iter_6.pth, inside it.
    'three rounds, 1 process, killed writing a checkpoint in round 2':
    (1, False, 3, 'STALLED WRITING', 'iter_7.pth'),
}


@pytest.mark.e2e
@pytest.mark.parametrize('case', KILL_CASES)
def test_resume_after_kill(case, tmp_path, image_root, init_checkpoint):
    processes, stage2_only, rounds, marker, stall = KILL_CASES[case]
    (tmp_path / 'stall_plugin.py').write_text(STALL_PLUGIN)
    config = kill_config(tmp_path, image_root, init_checkpoint, stage2_only,
                         rounds)
    if processes == 1:
        tool = [sys.executable, 'tools/train.py', config]
    else:
        tool = ['bash', 'tools/dist_train.sh', config, str(processes)]
    full, killed = tmp_path / 'full', tmp_path / 'killed'
    finish(launch([*tool, '--work-dir', str(full)], tmp_path))

    kill_when(
        launch([*tool, '--work-dir', str(killed)],
               tmp_path,
               MMSD_TEST_STALL_WRITE=stall), marker)
    left = os.listdir(killed)
    if marker == 'STALLED WRITING':  # the file being written never appears
        assert stall not in left
        assert any(n.startswith(f'.{stall}.') for n in left), left
    log = finish(
        launch(
            [*tool, '--work-dir', str(killed), '--resume'], tmp_path))
    # From the newest intact checkpoint, or afresh if none was complete.
    assert 'Resume: from' in log or 'Resume: no intact checkpoint' in log

    last = 2 + 3 * rounds
    expected = logged_losses(full)
    actual = logged_losses(killed, last_run_only=True)
    assert actual and set(actual) <= set(expected)
    assert max(actual) == last
    for iteration, loss in actual.items():
        assert loss == expected[iteration], (iteration, loss)
    if rounds > 1:  # resumed inside round 2, from its first checkpoint
        assert min(actual) == 7, sorted(actual)
        assert 'starting in round 2 at iteration 6' in log
    name = f'iter_{last}.pth'
    final = torch.load(full / name, weights_only=True)['state_dict']
    again = torch.load(killed / name, weights_only=True)['state_dict']
    assert final.keys() == again.keys()
    for key in final:
        assert torch.equal(final[key], again[key]), key
    assert not [n for n in os.listdir(killed) if n.endswith('.tmp')]
