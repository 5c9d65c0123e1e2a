# Copyright (c) mmsd contributors. All rights reserved.
"""Small-scale reproduction of self-distillation for further pre-training.

On the embedded Fashion-MNIST (target) with the digit MAE (initial model)
of ``make demo``, for every target-set size and seed, and for every number
S of further pre-training steps: one two-stage run (S steps of further
pre-training, then S steps of self-distillation), then fine-tuning + test
from the FPT and SD encoders, and once from the initial model (FT).

Prints the mean ± std top-1 table at the main step count and the paper's
Figure 1 analogue (top-1 against S), and writes ``results.json``,
``results.md`` and ``results.png`` to the work dir.
"""
import argparse
import itertools
import json
import os
import os.path as osp
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mmsd.experiments.demo import ensure_initial_model, finetune, self_distill


def subset_options(seed: int, per_class: int) -> list:
    """The run's seed and its stratified target subset."""
    return [
        f'randomness.seed={seed}',
        f'train_dataloader.dataset.num_per_class={per_class}',
        f'train_dataloader.dataset.subset_seed={seed}'
    ]


def sd_options(steps: int, seed: int, per_class: int) -> list:
    return [
        f'custom_hooks.0.switch_iter={steps}',
        f'train_cfg.max_iters={2 * steps}', f'param_scheduler.0.end={steps}',
        f'param_scheduler.1.begin={steps}',
        f'param_scheduler.1.end={2 * steps}',
        f'default_hooks.checkpoint.interval={2 * steps}',
        *subset_options(seed, per_class)
    ]


def ft_options(iters: int, seed: int, per_class: int) -> list:
    return [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.1.end={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        *subset_options(seed, per_class)
    ]


def run_one(work_dir: str, initial: str, per_class: int, seed: int,
            steps_list: list, ft_iters: int) -> list:
    """All runs of one (size, seed); returns result records."""
    root = osp.join(work_dir, f'n{per_class}_seed{seed}')
    ft = ft_options(ft_iters, seed, per_class)
    records = [
        dict(
            per_class=per_class,
            seed=seed,
            steps=0,
            row='FT',
            top1=finetune(osp.join(root, 'ft'), initial, ft)['accuracy/top1'])
    ]
    for steps in steps_list:
        encoders = self_distill(
            osp.join(root, f'sd_{steps}'), initial,
            sd_options(steps, seed, per_class))
        for row in ('FPT', 'SD'):
            metrics = finetune(
                osp.join(root, f'ft_{row.lower()}_{steps}'), encoders[row], ft)
            records.append(
                dict(
                    per_class=per_class,
                    seed=seed,
                    steps=steps,
                    row=row,
                    top1=metrics['accuracy/top1']))
    return records


def summarize(records: list, sizes: list, main_steps: int) -> str:
    lines = [
        '| target set (train images) | FT | FPT | SD |',
        '| --- | ---: | ---: | ---: |'
    ]
    for per_class in sizes:
        cells = []
        for row in ('FT', 'FPT', 'SD'):
            values = [
                r['top1'] for r in records if r['per_class'] == per_class
                and r['row'] == row and r['steps'] in (0, main_steps)
            ]
            cells.append(f'{np.mean(values):.2f} ± {np.std(values):.2f} '
                         f'(n={len(values)})')
        lines.append(f'| {10 * per_class} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def curve_table(records: list, sizes: list, steps_list: list) -> str:
    lines = [
        '| train images | S (further pre-training steps) | FPT | SD |',
        '| --- | ---: | ---: | ---: |'
    ]
    for per_class, steps in itertools.product(sizes, steps_list):
        cells = []
        for row in ('FPT', 'SD'):
            values = [
                r['top1'] for r in records if r['per_class'] == per_class
                and r['row'] == row and r['steps'] == steps
            ]
            cells.append(f'{np.mean(values):.2f} ± {np.std(values):.2f}')
        lines.append(f'| {10 * per_class} | {steps} | ' + ' | '.join(cells) +
                     ' |')
    return '\n'.join(lines)


def plot(records: list, sizes: list, steps_list: list, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(sizes), figsize=(6 * len(sizes), 4))
    for ax, per_class in zip(np.atleast_1d(axes), sizes):
        for row, color in (('FPT', 'tab:orange'), ('SD', 'tab:green')):
            stats = [[
                r['top1'] for r in records if r['per_class'] == per_class
                and r['row'] == row and r['steps'] == steps
            ] for steps in steps_list]
            ax.errorbar(
                steps_list, [np.mean(s) for s in stats],
                yerr=[np.std(s) for s in stats],
                label=row,
                color=color,
                marker='o',
                capsize=3)
        ft = [
            r['top1'] for r in records
            if r['per_class'] == per_class and r['row'] == 'FT'
        ]
        ax.axhline(np.mean(ft), color='gray', ls='--', label='FT')
        ax.set(
            title=f'{10 * per_class} target images',
            xlabel='further pre-training steps S',
            xscale='log',
            ylabel='fine-tuned test top-1 (%)')
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/benchmark')
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[50, 200],
        help='target images per class (10 classes)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument(
        '--steps', type=int, nargs='+', default=[100, 500, 1500])
    parser.add_argument('--main-steps', type=int, default=500)
    parser.add_argument('--ft-iters', type=int, default=500)
    parser.add_argument(
        '--workers',
        type=int,
        default=2,
        help='(size, seed) jobs run in parallel')
    args = parser.parse_args()
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    initial = ensure_initial_model(osp.join(work_dir, 'stage0'))
    jobs = list(itertools.product(args.sizes, args.seeds))
    with ThreadPoolExecutor(args.workers) as pool:
        futures = [
            pool.submit(run_one, work_dir, initial, per_class, seed,
                        args.steps, args.ft_iters) for per_class, seed in jobs
        ]
        records = [r for future in futures for r in future.result()]
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(records, f, indent=1)
    table = summarize(records, args.sizes, args.main_steps)
    curve = curve_table(records, args.sizes, args.steps)
    plot(records, args.sizes, args.steps, osp.join(work_dir, 'results.png'))
    report = (f'Top-1 (%) at S={args.main_steps}, mean ± std over seeds '
              f'{args.seeds}:\n\n{table}\n\nTop-1 (%) against S:\n\n{curve}\n'
              f'\nWall time: {time.time() - start:.0f} s\n')
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(report)
    print('\n' + report)


if __name__ == '__main__':
    main()
