# Copyright (c) mmsd contributors. All rights reserved.
"""Run the whole self-distillation pipeline on the embedded data (CPU).

Chains the normal tools over the configs in ``configs/demo/`` (stages in
:mod:`mmsd.experiments.demo`):

0. initial model: a tiny MAE pre-trained on MNIST digits (cached);
1. + 2. further pre-training then self-distillation on Fashion-MNIST;
3. fine-tuning + test from the initial (FT), further-pre-trained (FPT)
   and self-distilled (SD) encoders.

Prints a results table and writes ``demo_results.md`` and
``demo_results.png`` (training curves and accuracies) to the work dir.
"""
import argparse
import os
import os.path as osp
import time

from mmsd.experiments.demo import plot, results_table, run_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--target-root',
        help='another Fashion-MNIST folder, e.g. the full dataset of '
        "Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    sd_options, ft_options = [], []
    if args.target_root:
        root = args.target_root
        sd_options = [f'train_dataloader.dataset.data_root={root}']
        ft_options = [
            f'{loader}.dataset.data_root={root}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')
        ]
    results = run_pipeline(
        work_dir, args.seed, sd_options=sd_options, ft_options=ft_options)
    table = results_table(results)
    with open(osp.join(work_dir, 'demo_results.md'), 'w') as f:
        f.write(table + '\n')
    figure = osp.join(work_dir, 'demo_results.png')
    plot(work_dir, results, figure)
    print(f'\nmmsd demo (seed {args.seed}), {time.time() - start:.0f} s:\n')
    print(table)
    print(f'\nWrote {figure} and demo_results.md')


if __name__ == '__main__':
    main()
