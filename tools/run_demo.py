# Copyright (c) mmsd contributors. All rights reserved.
"""Run the whole self-distillation pipeline on the embedded data (CPU).

Chains the normal tools over the configs in ``configs/demo/``:

0. initial model: a tiny MAE pre-trained on MNIST digits (cached);
1. + 2. further pre-training then self-distillation on Fashion-MNIST;
3. fine-tuning + test from the initial (FT), further-pre-trained (FPT)
   and self-distilled (SD) encoders.

Prints a results table and writes ``demo_results.md`` and
``demo_results.png`` (training curves and accuracies) to the work dir.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = dict(
    stage0='configs/demo/mae_vit-tiny-p7_1xb64-3k_mnist-digits.py',
    sd='configs/demo/sd_vit-tiny-p7_1xb64-2x500_fashion-mnist.py',
    ft='configs/demo/ft_vit-tiny-p7_1xb64-1k_fashion-mnist.py')
ROWS = (('FT', 'initial model'), ('FPT', 'further pre-trained'),
        ('SD', 'self-distilled'))


def run_tool(tool: str, *args: str, log: Optional[str] = None) -> None:
    """Run ``tools/{tool}.py`` in a subprocess; its log streams through, or
    goes to the file ``log`` (for runs side by side)."""
    command = [sys.executable, osp.join(REPO, 'tools', f'{tool}.py'), *args]
    print(
        '\n$ ' + ' '.join(command[1:]) + (f'  > {log}' if log else ''),
        flush=True)
    if log is None:
        subprocess.run(command, cwd=REPO, check=True)
        return
    with open(log, 'w') as f:
        result = subprocess.run(command, cwd=REPO, stdout=f, stderr=f)
    if result.returncode:
        raise RuntimeError(f'{" ".join(command[1:])} failed; see {log}')


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def read_scalars(work_dir: str) -> List[dict]:
    """The training log of the latest run in ``work_dir``."""
    runs = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    with open(runs[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def ensure_initial_model(stage0_dir: str, options: List[str] = ()) -> str:
    """Train stage 0 unless cached; return its checkpoint."""
    if not osp.isfile(osp.join(stage0_dir, 'last_checkpoint')):
        run_tool('train', CONFIGS['stage0'], '--work-dir', stage0_dir,
                 *(['--cfg-options', *options] if options else []))
    else:
        print(f'Stage 0: using the cached initial model in {stage0_dir}')
    return last_checkpoint(stage0_dir)


def self_distill(sd_dir: str, initial: str,
                 options: List[str] = ()) -> Dict[str, str]:
    """Stages 1 + 2; return the encoders to fine-tune, by row."""
    run_tool('train', CONFIGS['sd'], '--work-dir', sd_dir, '--cfg-options',
             f'model.init_checkpoint={initial}', *options)
    return dict(
        FT=initial,
        FPT=osp.join(sd_dir, 'fpt_backbone.pth'),
        SD=osp.join(sd_dir, 'sd_backbone.pth'))


def finished_metrics(work_dir: str) -> Optional[dict]:
    """The test metrics of a run that already finished in ``work_dir``."""
    path = osp.join(work_dir, 'test_metrics.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def train_and_test(config: str,
                   work_dir: str,
                   options: List[str] = (),
                   log: Optional[str] = None) -> dict:
    """Train ``config`` with ``--cfg-options options``, test its last
    checkpoint with the same options; return the test metrics. ``log``:
    a file for the training output (the test's goes beside it)."""
    options = ['--cfg-options', *options] if options else []
    run_tool('train', config, '--work-dir', work_dir, *options, log=log)
    metrics = osp.join(work_dir, 'test_metrics.json')
    run_tool(
        'test',
        config,
        last_checkpoint(work_dir),
        '--work-dir',
        osp.join(work_dir, 'test'),
        '--out',
        metrics,
        '--out-item',
        'metrics',
        *options,
        log=log and log.replace('.log', '_test.log'))
    with open(metrics) as f:
        return json.load(f)


def finetune_and_test(ft_dir: str,
                      checkpoint: str,
                      options: List[str] = (),
                      config: str = CONFIGS['ft'],
                      checkpoint_option: str = 'model.backbone_checkpoint',
                      log: Optional[str] = None) -> dict:
    """Stage 3 from ``checkpoint``; return the test metrics."""
    return train_and_test(config, ft_dir,
                          [f'{checkpoint_option}={checkpoint}', *options], log)


def run_pipeline(
    work_dir: str,
    seed: int = 0,
    stage0_options: List[str] = (),
    sd_options: List[str] = (),
    ft_options: List[str] = ()
) -> Dict[str, dict]:
    """Run stages 0-3 and return ``{row: test metrics}``. The options are
    ``--cfg-options`` of each stage."""
    initial = ensure_initial_model(
        osp.join(work_dir, 'stage0'), stage0_options)
    seeded = [f'randomness.seed={seed}']
    encoders = self_distill(
        osp.join(work_dir, 'sd'), initial, [*seeded, *sd_options])
    return {
        row:
        finetune_and_test(
            osp.join(work_dir, f'ft_{row.lower()}'), checkpoint,
            [*seeded, *ft_options])
        for row, checkpoint in encoders.items()
    }


def results_table(results: Dict[str, dict]) -> str:
    lines = ['| encoder fine-tuned | top-1 (%) |', '| --- | ---: |']
    for row, description in ROWS:
        top1 = results[row]['accuracy/top1']
        lines.append(f'| {row} ({description}) | {top1:.2f} |')
    return '\n'.join(lines)


def plot(work_dir: str,
         results: Dict[str, dict],
         path: str,
         losses: tuple = ('loss_mae', 'loss_distill'),
         task: str = 'Fashion-MNIST') -> None:
    """Training curves of stages 1 + 2 and 3, and the test accuracies."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    sd_log = [r for r in read_scalars(osp.join(work_dir, 'sd')) if 'loss' in r]
    for key in losses:
        points = [(r['iter'], r[key]) for r in sd_log if key in r]
        axes[0].plot(*zip(*points), label=key)
    axes[0].set(
        title='Further pre-training, then self-distillation',
        xlabel='iteration',
        yscale='log')
    axes[0].legend()
    for row, _ in ROWS:
        log = read_scalars(osp.join(work_dir, f'ft_{row.lower()}'))
        points = [(r['iter'], r['loss']) for r in log if 'loss' in r]
        axes[1].plot(*zip(*points), label=row)
    axes[1].set(title='Fine-tuning loss', xlabel='iteration')
    axes[1].legend()
    top1 = [results[row]['accuracy/top1'] for row, _ in ROWS]
    bars = axes[2].bar([row for row, _ in ROWS],
                       top1,
                       color=['gray', 'tab:orange', 'tab:green'])
    axes[2].bar_label(bars, fmt='%.1f')
    axes[2].set(
        title=f'{task} test top-1 (%)', ylim=(min(top1) - 5, max(top1) + 3))
    fig.tight_layout()
    fig.savefig(path, dpi=100)


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
