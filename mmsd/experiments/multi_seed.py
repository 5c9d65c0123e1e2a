# Copyright (c) mmsd contributors. All rights reserved.
"""Fine-tune and test configs over several seeds; tabulate mean ± std.

Every row is a config plus ``--cfg-options``; for every seed it is trained
with ``tools/train.py`` (``randomness.seed=<seed>``) and its last
checkpoint tested with ``tools/test.py``, both as subprocesses. A run
whose ``test_metrics.json`` exists is not repeated. Writes, to the work
dir, ``runs.csv`` (one line per run), ``summary.csv`` and ``summary.md``
(mean ± std over seeds of every metric: ``accuracy/top1`` is top-1,
``single-label/f1-score`` macro-F1 with MMPretrain's ``SingleLabelMetric``).
The std is the population std (ddof 0) over seeds.

One config::

    python tools/multi_seed.py CONFIG --seeds 0 1 2 --cfg-options k=v

Several rows in one table (``--cfg-options`` apply to every row)::

    python tools/multi_seed.py --row FT CONFIG model.backbone_checkpoint=A \\
        --row L2-SP OTHER_CONFIG --num-seeds 5
"""
import argparse
import csv
import os
import os.path as osp
import re
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

from .console import METRIC_NAMES, StageConsole, format_seconds
from .tools import map_in_threads, train_and_test
from .work_dirs import finished_metrics


class Row:
    """A table row: a name, a config and its ``--cfg-options``."""

    def __init__(self, name: str, config: str,
                 options: Sequence[str] = ()) -> None:
        if not osp.isfile(config):
            raise FileNotFoundError(f'Row {name!r}: config {config!r} does '
                                    'not exist.')
        for option in options:
            if '=' not in option:
                raise ValueError(f'Row {name!r}: option {option!r} is not '
                                 'KEY=VALUE.')
        self.name = name
        self.config = osp.abspath(config)
        self.options = list(options)

    @property
    def slug(self) -> str:
        """The row's folder name."""
        return re.sub(r'[^A-Za-z0-9._-]+', '_', self.name)


def run_seed(row: Row, seed: int, work_dir: str,
             options: Sequence[str]) -> dict:
    """Train + test one row with one seed (cached); return its record."""
    run_dir = osp.join(work_dir, row.slug, f'seed{seed}')
    start = time.time()
    name = f'{row.name}, seed {seed}'
    metrics = finished_metrics(run_dir)
    if metrics is not None:
        StageConsole.current().skip(name, f'finished run reused: {run_dir}')
    else:
        metrics = train_and_test(
            row.config, run_dir,
            [f'randomness.seed={seed}', *row.options, *options], name)
    return dict(
        row=row.name,
        seed=seed,
        seconds=round(time.time() - start, 1),
        **{
            k: v
            for k, v in metrics.items() if isinstance(v, (int, float))
        })


def metric_keys(records: List[dict],
                metrics: Optional[Sequence[str]] = None) -> List[str]:
    """The metrics to tabulate: ``metrics``, or every metric of the runs
    (known ones first)."""
    if metrics:
        for key in metrics:
            missing = [r['row'] for r in records if key not in r]
            if missing:
                raise KeyError(f'Metric {key!r} is missing from the test '
                               f'results of {sorted(set(missing))}.')
        return list(metrics)
    found = {
        k
        for r in records
        for k in r if k not in ('row', 'seed', 'seconds')
    }
    return [k for k in METRIC_NAMES if k in found
            ] + sorted(found - set(METRIC_NAMES))


def aggregate(records: List[dict], metrics: Sequence[str]) -> List[dict]:
    """Per row (in first-seen order): the seeds, and mean and population
    std of every metric over them."""
    rows: Dict[str, List[dict]] = {}
    for record in records:
        rows.setdefault(record['row'], []).append(record)
    summary = []
    for name, runs in rows.items():
        entry = dict(row=name, n=len(runs), seeds=[r['seed'] for r in runs])
        for key in metrics:
            values = np.array([r[key] for r in runs if key in r], float)
            entry[f'{key} mean'] = float(values.mean())
            entry[f'{key} std'] = float(values.std())
        summary.append(entry)
    return summary


#: Two-sided 95 % quantiles of Student's t, by degrees of freedom.
T_975 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    14: 2.145,
    19: 2.093,
}


def paired_difference(a: Sequence[float], b: Sequence[float]) -> dict:
    """Paired comparison of two rows over the same seeds: the differences
    ``a - b`` seed by seed, their mean and sample std (ddof 1), the number
    of seeds where ``a`` is higher and lower, the paired t statistic, and
    ``beyond_spread``: whether the two-sided 95 % confidence interval of the
    mean difference excludes 0 (|t| above Student's quantile)."""
    if len(a) != len(b) or len(a) < 2:
        raise ValueError('A paired comparison needs the same >= 2 seeds in '
                         f'both rows, got {len(a)} and {len(b)} values.')
    diff = np.asarray(a, float) - np.asarray(b, float)
    n = len(diff)
    if n - 1 not in T_975:
        raise ValueError(f'No t quantile for {n} seeds; use one of '
                         f'{sorted(k + 1 for k in T_975)}.')
    std = float(diff.std(ddof=1))
    mean = float(diff.mean())
    if std > 0:
        t = mean / (std / np.sqrt(n))
    else:
        t = 0.0 if mean == 0 else float(np.copysign(np.inf, mean))
    return dict(
        mean=mean,
        std=std,
        higher=int((diff > 0).sum()),
        lower=int((diff < 0).sum()),
        n=n,
        t=float(t),
        beyond_spread=bool(abs(t) > T_975[n - 1]))


def markdown_table(summary: List[dict], metrics: Sequence[str]) -> str:
    header = ['row', 'seeds'] + [METRIC_NAMES.get(k, k) for k in metrics]
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '| --- | ---: |' + ' ---: |' * len(metrics)
    ]
    for entry in summary:
        cells = [entry['row'], str(entry['n'])] + [
            f"{entry[f'{k} mean']:.2f} ± {entry[f'{k} std']:.2f}"
            for k in metrics
        ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def write_csv(path: str, rows: List[dict]) -> None:
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({
                k:
                ' '.join(map(str, v)) if isinstance(v, list) else v
                for k, v in row.items()
            })


def write_results(work_dir: str,
                  records: List[dict],
                  metrics: Optional[Sequence[str]] = None) -> str:
    """Write ``runs.csv``, ``summary.csv`` and ``summary.md``; return the
    Markdown table."""
    keys = metric_keys(records, metrics)
    summary = aggregate(records, keys)
    write_csv(osp.join(work_dir, 'runs.csv'), records)
    write_csv(osp.join(work_dir, 'summary.csv'), summary)
    table = markdown_table(summary, keys)
    with open(osp.join(work_dir, 'summary.md'), 'w') as f:
        f.write(table + '\n')
    return table


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]))
    parser.add_argument('config', nargs='?', help='a config (one row)')
    parser.add_argument(
        '--row',
        nargs='+',
        action='append',
        default=[],
        metavar='ARG',
        help='a named row: NAME CONFIG [KEY=VALUE ...], the options '
        'being its own --cfg-options')
    parser.add_argument('--seeds', type=int, nargs='+')
    parser.add_argument(
        '--num-seeds',
        type=int,
        default=5,
        help='seeds 0..N-1 unless --seeds is given (default 5, as the paper)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='KEY=VALUE options for every row')
    parser.add_argument('--work-dir', default='work_dirs/multi_seed')
    parser.add_argument(
        '--metrics',
        nargs='+',
        help='metrics to tabulate (default: all the test reports)')
    parser.add_argument(
        '--workers', type=int, default=1, help='runs in parallel')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='stream the full logs of the runs, not one line per run')
    args = parser.parse_args(argv)
    rows = []
    if args.config:
        rows.append(
            Row(osp.splitext(osp.basename(args.config))[0], args.config))
    for spec in args.row:
        if len(spec) < 2:
            parser.error(f'--row {" ".join(spec)}: give NAME CONFIG.')
        rows.append(Row(spec[0], spec[1], spec[2:]))
    if not rows:
        parser.error('give a CONFIG or at least one --row NAME CONFIG.')
    names = [row.name for row in rows]
    if len(set(names)) != len(names):
        parser.error(f'row names repeat: {names}')
    args.rows = rows
    args.seeds = args.seeds or list(range(args.num_seeds))
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    jobs = [(row, seed) for row in args.rows for seed in args.seeds]
    with StageConsole(verbose=args.verbose):
        records = map_in_threads(run_seed,
                                 [(row, seed, work_dir, args.cfg_options)
                                  for row, seed in jobs], args.workers)
    table = write_results(work_dir, records, args.metrics)
    print(f'\nMean ± std over seeds {args.seeds} '
          f'({format_seconds(time.time() - start)}):\n\n{table}\n\n'
          f'Wrote summary.md, summary.csv and runs.csv to {work_dir}\n'
          f'Logs: {work_dir}/<row>/seed<N>/{{train,test}}.log')
