# Copyright (c) mmsd contributors. All rights reserved.
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from mmsd.utils import export_backbone, read_state_dict


def test_mmengine_checkpoint_loads_with_weights_only(tmp_path):
    hub = MessageHub.get_instance('test_weights_only')
    hub.update_scalar('train/loss', 1.5)
    checkpoint = dict(
        meta=dict(iter=3, seed=0),
        state_dict=dict(w=torch.ones(2)),
        message_hub=hub.state_dict())
    path = tmp_path / 'ckpt.pth'
    torch.save(checkpoint, path)
    loaded = torch.load(path, weights_only=True)
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.current() == 1.5 and buffer.statistics('mean') == 1.5


def test_arbitrary_callables_are_still_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(fn=getattr(HistoryBuffer, 'min')), path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)


def test_export_backbone_roundtrip(tmp_path):
    src = tmp_path / 'train.pth'
    torch.save(
        dict(
            state_dict={
                'backbone.a': torch.ones(2),
                'teacher.a': torch.zeros(2),
                'neck.b': torch.ones(1)
            }), src)
    dst = str(tmp_path / 'teacher.pth')
    assert export_backbone(str(src), dst, 'teacher.') == 1
    exported = torch.load(dst, weights_only=True)
    assert list(exported['state_dict']) == ['backbone.a']
    assert torch.equal(read_state_dict(dst, 'backbone.')['a'], torch.zeros(2))


def test_read_state_dict_errors(tmp_path):
    with pytest.raises(
            FileNotFoundError, match="initial model file '.*x.pth'"):
        read_state_dict(str(tmp_path / 'x.pth'), what='initial model')
    path = tmp_path / 'list.pth'
    torch.save([torch.ones(1)], path)
    with pytest.raises(RuntimeError, match='holds a list, not a state dict'):
        read_state_dict(str(path))


class RunsCode:
    """Unpickling an instance would call ``print``: stands for any code."""

    def __reduce__(self):
        return (print, ('this ran',))


def test_pickle_that_would_run_code_is_refused_by_name(tmp_path):
    path = str(tmp_path / 'runs_code.pth')
    torch.save(dict(state_dict=dict(w=torch.ones(1)), extra=RunsCode()), path)
    with pytest.raises(RuntimeError) as error:
        read_state_dict(path, what='initial')
    message = str(error.value)
    assert f"Refused to read the initial file '{path}'" in message
    assert 'would import and run print' in message


def test_truncated_and_safetensors_files(tmp_path):
    from safetensors.torch import save_file
    path = tmp_path / 'weights.safetensors'
    save_file({'backbone.w': torch.arange(3.)}, str(path))
    assert torch.equal(read_state_dict(str(path), 'backbone.')['w'],
                       torch.arange(3.))
    for name in ('weights.safetensors', 'ckpt.pth'):
        full = tmp_path / name
        if name.endswith('.pth'):
            torch.save(dict(state_dict={'w': torch.ones(100)}), full)
        data = full.read_bytes()
        cut = tmp_path / f'cut_{name}'
        cut.write_bytes(data[:len(data) // 2])
        with pytest.raises(RuntimeError,
                           match=f"Cannot read the checkpoint file "
                           f"'{cut}'"):
            read_state_dict(str(cut))
