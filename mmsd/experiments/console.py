# Copyright (c) mmsd contributors. All rights reserved.
"""What the experiment runners show: one line per stage, the full logs in
files.

A *stage* is a named step of an experiment (e.g. "FT: fine-tune + test")
that runs one or more tools as subprocesses. Each run's output goes to a log
file in its work dir; the console shows the stage's progress (iteration /
total, the latest losses, MMEngine's ETA) as a live bar on a terminal, and
one line when the stage ends. ``verbose`` streams the full output instead.
Log lines that match a ``highlight`` pattern (e.g. a warning a hook logs)
are shown on the console as well. A failed run prints the last lines of its
log and the log's path.
"""
import glob
import os
import os.path as osp
import re
import subprocess
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, TextIO

#: Column titles of known metrics, in the order they are shown.
METRIC_NAMES = {
    'accuracy/top1': 'top-1 (%)',
    'accuracy/top5': 'top-5 (%)',
    'single-label/f1-score': 'macro-F1 (%)',
    'macro/f1-score': 'macro-F1 (%)',  # the text configs' name
}

_ITER = re.compile(r'Iter\((train|val|test)\)\s*\[\s*(\d+)/(\d+)\]')
_LOSS = re.compile(r'\b(loss\w*): (-?[\d.]+(?:e[-+]?\d+)?)')
_ETA = re.compile(r'\beta: (\S+)')
# MMEngine's prefix: '12/03 13:00:00 - mmengine - WARNING - '.
_LOGGER_PREFIX = re.compile(r'^\d\d/\d\d [\d:]+ - \S+ - (\w+) - ')


class StageFailed(RuntimeError):
    """A tool run of a stage exited with an error (its log was printed)."""


def format_metrics(metrics: dict, limit: int = 2) -> str:
    """``'top-1 79.40, macro-F1 77.38'``: the known metrics of a test."""
    shown = [
        f'{METRIC_NAMES[k].split(" (")[0]} {metrics[k]:.2f}'
        for k in METRIC_NAMES if k in metrics
    ]
    return ', '.join(shown[:limit])


def format_seconds(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f'{minutes}:{seconds:02d}'


def where_things_are(work_dir: str, seconds: float, **files: str) -> str:
    """The closing lines of a runner: its files, its logs, its time."""
    lines = [f'{what + ":":6s} {path}' for what, path in files.items()]
    logs = glob.glob(osp.join(work_dir, '**', '*.log'), recursive=True)
    folders = sorted({
        osp.relpath(osp.dirname(log), work_dir)
        for log in logs if osp.basename(log) in ('train.log', 'test.log')
    })
    if folders:
        where = folders[0] if len(folders) == 1 else (
            '{' + ','.join(folders) +
            '}' if len(folders) <= 6 else f'<{len(folders)} run folders>')
        lines.append(f'Logs:  {osp.join(work_dir, where)}/*.log '
                     '(--verbose streams them)')
    lines.append(f'Done in {format_seconds(seconds)}.')
    return '\n'.join(lines)


class Stage:
    """The state of one stage: its runs' progress and its latest losses.

    Args:
        console (StageConsole): Where it is shown.
        name (str): Its name on the console.
    """

    def __init__(self, console: 'StageConsole', name: str) -> None:
        self.console = console
        self.name = name
        self.iters = (0, 0)
        self.losses: Dict[str, str] = {}
        self.eta = ''
        self.activity = ''
        self.result = ''
        self.start = time.time()
        self._highlighted = set()

    def run(self, tool: str, command: Sequence[str], log: str,
            cwd: str) -> None:
        """Run ``command`` (``tools/{tool}.py`` and its arguments), its output
        to ``log``; raise :class:`StageFailed` after showing its tail."""
        os.makedirs(os.path.dirname(os.path.abspath(log)), exist_ok=True)
        self.activity = tool
        self.console.refresh(self)
        tail = deque(maxlen=self.console.tail)
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        with open(log, 'w') as f:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors='replace')
            for line in process.stdout:
                f.write(line)
                f.flush()
                tail.append(line.rstrip('\n'))
                self._parse(line, tool)
            code = process.wait()
        self.activity = ''
        if code:
            raise self.console.failed(self, tool, code, log, list(tail))

    def _parse(self, line: str, tool: str) -> None:
        console = self.console
        if console.verbose:
            console.write(line.rstrip('\n'))
        elif console.highlight and console.highlight.search(line):
            message = _LOGGER_PREFIX.sub(r'\1: ', line.strip())
            if message not in self._highlighted:
                self._highlighted.add(message)
                console.print(f'  {self.name}: {message}')
        match = _ITER.search(line)
        if not match:
            return
        mode, done, total = match.group(1), int(match.group(2)), int(
            match.group(3))
        if mode == 'train':
            self.iters = (done, total)
            losses = dict(_LOSS.findall(line))
            parts = {k: v for k, v in losses.items() if k != 'loss'}
            self.losses = parts or losses
            eta = _ETA.search(line)
            self.eta = eta.group(1) if eta else ''
        else:
            self.activity = f'{tool}: {mode} {done}/{total}'
        console.refresh(self)

    def summary(self) -> str:
        """The stage's line: iterations, last losses, result, time."""
        done, total = self.iters
        parts = [f'{done}/{total} iters'] if total else []
        parts += [f'{k} {float(v):.4g}' for k, v in self.losses.items()]
        if self.result:
            parts.append(self.result)
        return '  '.join(parts)


class StageConsole:
    """Shows the stages of an experiment, one line each.

    Use it as a context manager around the experiment; the helpers of
    :mod:`mmsd.experiments` run their tools through the active one
    (:meth:`current`). On a terminal, running stages show a live bar;
    finished ones leave one line. A :class:`StageFailed` leaving the
    context ends the program with status 1 after its log's tail is shown.

    Args:
        verbose (bool): Stream every tool's full output too. Defaults to
            False.
        highlight (Sequence[str]): Regular expressions; log lines that match
            one are shown on the console (each distinct line once per
            stage), e.g. ``r'overfitting'``. Defaults to ().
        tail (int): Lines of a failed run's log to show. Defaults to 20.
        stream (TextIO, optional): Where to write. Defaults to
            ``sys.stdout``.
    """

    _active: Optional['StageConsole'] = None

    def __init__(self,
                 verbose: bool = False,
                 highlight: Sequence[str] = (),
                 tail: int = 20,
                 stream: Optional[TextIO] = None) -> None:
        self.verbose = verbose
        self.highlight = re.compile('|'.join(
            f'(?:{p})' for p in highlight)) if highlight else None
        self.tail = tail
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()
        self._progress = None
        self._tasks: Dict[int, int] = {}

    @classmethod
    def current(cls) -> 'StageConsole':
        """The active console, or a plain one that prints stage lines."""
        return cls._active or StageConsole()

    def __enter__(self) -> 'StageConsole':
        StageConsole._active = self
        if not self.verbose and self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn
            self._progress = Progress(
                TextColumn('[bold]{task.description}'),
                BarColumn(bar_width=20),
                TextColumn('{task.fields[info]}'),
                console=Console(file=self.stream),
                transient=True)
            self._progress.start()
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        StageConsole._active = None
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if isinstance(exc, StageFailed):
            raise SystemExit(1) from None

    # Output

    def write(self, line: str) -> None:
        """Write one raw line (a streamed log line)."""
        with self._lock:
            self.stream.write(line + '\n')
            self.stream.flush()

    def print(self, text: str = '') -> None:
        """Print lines above the live bars."""
        with self._lock:
            if self._progress is not None:
                self._progress.console.print(
                    text, markup=False, highlight=False, soft_wrap=True)
            else:
                self.write(text)

    # Stages

    @contextmanager
    def stage(self, name: str) -> Iterator[Stage]:
        """Show a stage while the block runs; one line when it ends."""
        stage = Stage(self, name)
        with self._lock:
            if self._progress is not None:
                self._tasks[id(stage)] = self._progress.add_task(
                    name, total=None, info='starting')
            elif self.verbose:
                self.print(f'\n=== {name} ===')
            else:
                self.print(f'… {name}')
        try:
            yield stage
        except StageFailed:
            self._remove(stage)
            raise
        except BaseException:
            self._remove(stage)
            self.print(f'✗ {name}: interrupted')
            raise
        self._remove(stage)
        elapsed = format_seconds(time.time() - stage.start)
        self.print(f'✓ {name}  {stage.summary()}  ({elapsed})'.replace(
            '    ', '  '))

    def skip(self, name: str, reason: str) -> None:
        """One line for a stage that need not run."""
        self.print(f'✓ {name}  {reason}')

    def refresh(self, stage: Stage) -> None:
        if self._progress is None or id(stage) not in self._tasks:
            return
        done, total = stage.iters
        info = stage.summary()
        if stage.eta and done < total:
            info += f'  eta {stage.eta}'
        if stage.activity:
            info = f'{info}  [{stage.activity}]'
        with self._lock:
            self._progress.update(
                self._tasks[id(stage)],
                completed=done,
                total=total or None,
                info=info)

    def _remove(self, stage: Stage) -> None:
        with self._lock:
            task = self._tasks.pop(id(stage), None)
            if task is not None and self._progress is not None:
                self._progress.remove_task(task)

    def failed(self, stage: Stage, tool: str, code: int, log: str,
               tail: List[str]) -> StageFailed:
        """Show a failed run's tail and log path; return the error."""
        lines = [
            f'✗ {stage.name}: tools/{tool}.py exited with status '
            f'{code}. The last {len(tail)} lines of its log:'
        ]
        lines += [f'    {line}' for line in tail]
        lines.append(f'  Full log: {log}')
        self.print('\n'.join(lines))
        return StageFailed(f'{stage.name}: tools/{tool}.py exited with '
                           f'status {code}; full log: {log}')
