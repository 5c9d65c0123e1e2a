# Copyright (c) mmsd contributors. All rights reserved.
"""Reading work dirs and finding tools: values from files, clear errors."""
import json
import os.path as osp

import pytest

from mmsd.experiments import (REPO, finished_metrics, last_checkpoint,
                              read_scalars)
from mmsd.experiments.tools import tool_path


def test_last_checkpoint_and_its_absence(tmp_path):
    with pytest.raises(FileNotFoundError, match='did not save a checkpoint'):
        last_checkpoint(str(tmp_path))
    (tmp_path / 'last_checkpoint').write_text('/x/iter_2.pth\n')
    assert last_checkpoint(str(tmp_path)) == '/x/iter_2.pth'


def test_read_scalars_takes_the_latest_run(tmp_path):
    with pytest.raises(FileNotFoundError, match='no training run logged'):
        read_scalars(str(tmp_path))
    for stamp, loss in (('20240101_000000', 1.0), ('20240102_000000', 0.5)):
        folder = tmp_path / stamp / 'vis_data'
        folder.mkdir(parents=True)
        lines = [dict(iter=1, loss=loss), dict(iter=2, loss=loss / 2)]
        (folder /
         'scalars.json').write_text('\n'.join(map(json.dumps, lines)) + '\n\n')
    assert read_scalars(
        str(tmp_path)) == [dict(iter=1, loss=0.5),
                           dict(iter=2, loss=0.25)]


def test_finished_metrics(tmp_path):
    assert finished_metrics(str(tmp_path)) is None
    (tmp_path / 'test_metrics.json').write_text('{"accuracy/top1": 75.5}')
    assert finished_metrics(str(tmp_path)) == {'accuracy/top1': 75.5}


def test_tools_are_found_in_the_clone():
    assert tool_path('train') == osp.join(REPO, 'tools', 'train.py')
    assert osp.isdir(osp.join(REPO, 'configs', 'demo'))
    with pytest.raises(FileNotFoundError, match='pip install -e'):
        tool_path('no_such_tool')
