# Copyright (c) mmsd contributors. All rights reserved.
"""Run the whole self-distillation pipeline on the embedded data (CPU).

Chains the normal tools over the configs in ``configs/demo/`` (stages in
:mod:`mmsd.experiments.demo`):

0. initial model: a tiny MAE pre-trained on MNIST digits (cached);
1. + 2. further pre-training on 100 Fashion-MNIST images, long enough to
   memorise them, then self-distillation, both probed on 1,000 unseen
   images (the probe warns when further pre-training overfits);
3. fine-tuning + test on the same 100 images, labelled, from the initial
   (FT), further-pre-trained (FPT) and self-distilled (SD) encoders.

Shows one line per stage and the probe's overfitting warning, then the
results and probe tables; writes ``demo_results.md`` and
``demo_results.png`` (probe curves of FPT and SD, MAE losses, accuracies)
to the work dir. Each stage's full log is in its own folder
there (``train.log``, ``test.log``); ``--verbose`` streams them.
"""
import argparse
import os
import os.path as osp
import time

from mmsd.experiments.console import StageConsole, where_things_are
from mmsd.experiments.demo import (OVERFITTING_WARNING, plot_regime,
                                   probe_curves, probe_loader_options,
                                   probe_table, results_table, run_pipeline,
                                   smoke_test_options)

#: Log lines shown on the console whatever the verbosity (regular
#: expressions), e.g. warnings that a stage's hooks log.
HIGHLIGHT = (OVERFITTING_WARNING, )


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--work-dir',
        help='defaults to work_dirs/demo (work_dirs/demo_smoke with '
        '--smoke-test)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--target-root',
        help='another Fashion-MNIST folder, e.g. the full dataset of '
        "Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist")
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='stream the full logs of every stage')
    parser.add_argument(
        '--smoke-test',
        action='store_true',
        help='2 iterations per stage: checks the chain in a few minutes '
        '(the numbers mean nothing)')
    args = parser.parse_args()
    if args.target_root and not osp.isdir(args.target_root):
        # Checked here: the first stage that reads it starts minutes later.
        parser.error(f'--target-root {args.target_root}: no such folder. '
                     'apt-get install dataset-fashion-mnist puts the full '
                     'dataset in /usr/share/datasets/fashion-mnist.')
    args.work_dir = args.work_dir or ('work_dirs/demo_smoke'
                                      if args.smoke_test else 'work_dirs/demo')
    return args


def main() -> None:
    args = parse_args()
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    options = smoke_test_options() if args.smoke_test else dict(
        stage0=[], sd=[], ft=[])
    if args.target_root:
        root = args.target_root
        options['sd'] += [
            f'train_dataloader.dataset.data_root={root}',
            *probe_loader_options('data_root', root)
        ]
        options['ft'] += [
            f'{loader}.dataset.data_root={root}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')
        ]
    with StageConsole(verbose=args.verbose, highlight=HIGHLIGHT) as console:
        console.print(f'mmsd demo, seed {args.seed}: {work_dir}')
        results = run_pipeline(
            work_dir,
            args.seed,
            stage0_options=options['stage0'],
            sd_options=options['sd'],
            ft_options=options['ft'])
    curves = probe_curves(osp.join(work_dir, 'sd'))
    table = results_table(results) + '\n\nProbe (RepresentationProbeHook):'\
        '\n\n' + probe_table(curves)
    table_file = osp.join(work_dir, 'demo_results.md')
    with open(table_file, 'w') as f:
        f.write(table + '\n')
        if curves['warning']:
            f.write(f'\nWarning: {curves["warning"]["message"]}\n')
    figure = osp.join(work_dir, 'demo_results.png')
    plot_regime(curves, results, figure)
    print(f'\n{table}\n\n' + where_things_are(
        work_dir, time.time() - start, Plot=figure, Table=table_file))


if __name__ == '__main__':
    main()
