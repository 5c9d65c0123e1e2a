# Copyright (c) mmsd contributors. All rights reserved.
"""The runners' console: one line per stage from the tools' log lines, the
full output in log files, highlighted lines, and failures with their log's
tail."""
import io
import os.path as osp
import sys

import pytest

from mmsd.experiments.console import (StageConsole, StageFailed,
                                      format_metrics, where_things_are)

PREFIX = '12/03 13:47:05 - mmengine - INFO - '
TRAIN_LINES = [
    'System environment: (a long dump)',
    PREFIX + 'Iter(train) [1/4]  lr: 1.0e-04  eta: 0:00:09  time: 0.18  '
    'loss: 1.3018  loss_mae: 1.3018',
    '12/03 13:47:05 - mmengine - WARNING - The model may overfit: held-out '
    'loss rose 3 times',
    PREFIX + 'Iter(train) [2/4]  lr: 1.0e-04  eta: 0:00:05  time: 0.18  '
    'loss: 16.3508  loss_mae: 1.2954  loss_distill: 15.0554',
    '12/03 13:47:06 - mmengine - WARNING - The model may overfit: held-out '
    'loss rose 3 times',
    PREFIX + 'Iter(test) [4/4]    accuracy/top1: 9.9000  time: 0.3078',
]


def fake_tool(lines, code=0):
    """A command that prints ``lines`` and exits with ``code``."""
    script = f'import sys\nfor line in {lines!r}: print(line)\n' \
        f'sys.exit({code})'
    return [sys.executable, '-c', script]


class Terminal(io.StringIO):

    def isatty(self):
        return True


def test_one_line_per_stage_from_the_log_lines(tmp_path):
    out = io.StringIO()
    log = str(tmp_path / 'run' / 'train.log')
    with StageConsole(stream=out, highlight=[r'may overfit']) as console:
        with console.stage('Stage 1+2') as stage:
            stage.run('train', fake_tool(TRAIN_LINES), log, str(tmp_path))
            stage.result = 'top-1 9.90'
    lines = out.getvalue().splitlines()
    assert lines[0] == '… Stage 1+2'
    # The highlighted warning, once although logged twice.
    assert lines[1] == ('  Stage 1+2: WARNING: The model may overfit: '
                        'held-out loss rose 3 times')
    assert lines[2].startswith('✓ Stage 1+2  2/4 iters  loss_mae 1.295  '
                               'loss_distill 15.06  top-1 9.90  (0:0')
    assert len(lines) == 3
    # The log holds the whole output.
    with open(log) as f:
        assert f.read().splitlines() == TRAIN_LINES


def test_verbose_streams_the_whole_output(tmp_path):
    out = io.StringIO()
    with StageConsole(verbose=True, stream=out) as console:
        with console.stage('A') as stage:
            stage.run('train', fake_tool(TRAIN_LINES), str(tmp_path / 'a.log'),
                      str(tmp_path))
    text = out.getvalue()
    assert text.startswith('\n=== A ===\n')
    for line in TRAIN_LINES:
        assert line in text


def test_failure_shows_the_log_tail_and_path(tmp_path):
    out = io.StringIO()
    log = str(tmp_path / 'b' / 'train.log')
    lines = [f'line {i}' for i in range(30)] + ['ValueError: bad value']
    console = StageConsole(stream=out, tail=5)
    with pytest.raises(
            StageFailed, match=f'exited with status 3; full log: '
            f'{log}'):
        with console.stage('B') as stage:
            stage.run('train', fake_tool(lines, code=3), log, str(tmp_path))
    shown = out.getvalue().splitlines()
    assert shown[1] == ('✗ B: tools/train.py exited with status 3. The last '
                        '5 lines of its log:')
    assert shown[2:7] == [f'    {line}' for line in lines[-5:]]
    assert shown[7] == f'  Full log: {log}'
    # Inside the console's context the program ends with status 1.
    with pytest.raises(SystemExit) as error:
        with StageConsole(stream=out) as console:
            with console.stage('B') as stage:
                stage.run('train', fake_tool(lines, code=3), log,
                          str(tmp_path))
    assert error.value.code == 1


def test_terminal_shows_live_bars_and_keeps_the_stage_lines(tmp_path):
    out = Terminal()
    with StageConsole(stream=out) as console:
        assert StageConsole.current() is console
        with console.stage('Stage 1+2') as stage:
            stage.run('train', fake_tool(TRAIN_LINES), str(tmp_path / 'c.log'),
                      str(tmp_path))
        console.skip('Stage 0', 'cached: /x')
    assert StageConsole.current() is not console
    text = out.getvalue()
    assert '✓ Stage 1+2  2/4 iters  loss_mae 1.295' in text
    assert '✓ Stage 0  cached: /x' in text


def test_metrics_and_closing_lines(tmp_path):
    assert format_metrics({
        'accuracy/top1': 77.5,
        'macro/f1-score': 77.375,
        'micro/f1-score_micro': 77.5
    }) == 'top-1 77.50, macro-F1 77.38'
    for folder in ('sd', 'ft_sd'):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / 'train.log').write_text('')
    (tmp_path / 'sd' / '20240101_000000').mkdir()
    (tmp_path / 'sd' / '20240101_000000' / '20240101_000000.log').touch()
    lines = where_things_are(str(tmp_path), 75.2, Plot='/x/p.png').splitlines()
    assert lines == [
        'Plot:  /x/p.png',
        f'Logs:  {osp.join(str(tmp_path), "{ft_sd,sd}")}/*.log '
        '(--verbose streams them)', 'Done in 1:15.'
    ]
