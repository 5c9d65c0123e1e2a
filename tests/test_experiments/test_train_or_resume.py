# Copyright (c) mmsd contributors. All rights reserved.
import os.path as osp

from mmsd.experiments import tools


def record_runs(monkeypatch):
    calls = []
    monkeypatch.setattr(tools, 'run_tool',
                        lambda *args, **kwargs: calls.append((args, kwargs)))
    return calls


def test_a_finished_run_is_reused(tmp_path, monkeypatch):
    calls = record_runs(monkeypatch)
    (tmp_path / 'iter_4.pth').write_bytes(b'')
    seconds = tools.train_or_resume('c.py', str(tmp_path), ['a=1'],
                                    'iter_4.pth')
    assert seconds == 0.0 and calls == []


def test_a_new_run_starts_and_an_interrupted_one_resumes(
        tmp_path, monkeypatch):
    calls = record_runs(monkeypatch)
    work_dir = str(tmp_path / 'run')
    tools.train_or_resume('c.py', work_dir, ['a=1'], 'iter_4.pth', 'row')
    assert osp.isdir(work_dir)
    (tmp_path / 'run' / 'last_checkpoint').write_text('iter_2.pth')
    tools.train_or_resume('c.py', work_dir, (), 'iter_4.pth')
    log = osp.join(work_dir, 'train.log')
    assert calls == [
        (('train', 'c.py', '--work-dir', work_dir, '--cfg-options', 'a=1'),
         dict(log=log, name='row')),
        (('train', 'c.py', '--work-dir', work_dir, '--resume'),
         dict(log=log, name=None)),
    ]
