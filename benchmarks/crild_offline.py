# Copyright (c) mmsd contributors. All rights reserved.
"""Offline CR-ILD comparison: compressing a fine-tuned 6-layer MiniLM into
the bottom 3 layers of the pre-trained MiniLM, on the embedded Rotten
Tomatoes snippets (1,000 train, 1,000 test).

For every seed, with the normal tools and the configs in
``configs/crild/demo/``: the teacher (MiniLM fine-tuned by mmsd, the text
demo's fine-tune config), the student fine-tuned directly from the
truncated pre-trained model, last-layer ILD (stage A without mixup) + stage
B, and CR-ILD (stage A with mixup consistency) + stage B. Prints the mean ±
std table (``tools/multi_seed.py``'s) and writes ``runs.csv``,
``summary.csv`` and ``summary.md`` to the work dir. Finished runs are
reused.
"""
import argparse
import os
import os.path as osp
import time
from concurrent.futures import ThreadPoolExecutor

from mmsd.experiments import text_demo
from mmsd.experiments.multi_seed import write_results
from mmsd.experiments.tools import run_tool
from mmsd.experiments.work_dirs import finished_metrics

CONFIGS = dict(
    teacher=text_demo.CONFIGS['ft'],
    student='configs/crild/demo/ft_minilm-l3_1xb16-200_rotten-tomatoes.py',
    ild='configs/crild/demo/ild-last_minilm-l6-l3_1xb16-200_'
    'rotten-tomatoes.py',
    crild='configs/crild/demo/crild-a_minilm-l6-l3_1xb16-200_'
    'rotten-tomatoes.py',
    stage_b='configs/crild/demo/crild-b_minilm-l3_1xb16-200_'
    'rotten-tomatoes.py')
ROWS = dict(
    teacher='teacher: MiniLM-L6 fine-tuned',
    student='student: bottom 3 layers, fine-tuned',
    ild='last-layer ILD + prediction KD',
    crild='CR-ILD (mixup consistency) + prediction KD')
METRICS = ('accuracy/top1', 'macro/f1-score')


def finetune(run_dir: str, config: str, model_dir: str, options: list) -> dict:
    """Fine-tune (or distil) and test, unless a finished run is there."""
    metrics = finished_metrics(run_dir)
    if metrics is None:
        metrics = text_demo.finetune(run_dir, model_dir, options, config)
    return metrics


def run_seed(work_dir: str, seed: int) -> dict:
    """The four rows for one seed (the teacher is this seed's)."""
    initial = text_demo.link_initial_model()
    root = osp.join(work_dir, f'seed{seed}')
    seeded = [f'randomness.seed={seed}']
    results = dict(
        teacher=finetune(
            osp.join(root, 'teacher'), CONFIGS['teacher'], initial, seeded))
    teacher = [f'model.teacher={osp.join(root, "teacher", "classifier")}']
    results['student'] = finetune(
        osp.join(root, 'student'), CONFIGS['student'], initial, seeded)
    for method in ('ild', 'crild'):
        stage_a = osp.join(root, f'{method}_a')
        os.makedirs(stage_a, exist_ok=True)
        if not osp.isfile(osp.join(stage_a, 'student', 'config.json')):
            run_tool(
                'train',
                CONFIGS[method],
                '--work-dir',
                stage_a,
                '--cfg-options',
                *seeded,
                *teacher,
                log=osp.join(stage_a, 'run.log'))
        results[method] = finetune(
            osp.join(root, f'{method}_b'), CONFIGS['stage_b'],
            osp.join(stage_a, 'student'), [*seeded, *teacher])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/crild_offline')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument(
        '--jobs', type=int, default=2, help='seeds run side by side')
    args = parser.parse_args()
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        per_seed = dict(
            zip(args.seeds,
                pool.map(lambda s: run_seed(work_dir, s), args.seeds)))
    records = [
        dict(row=ROWS[row], seed=seed, **results[row]) for row in ROWS
        for seed, results in per_seed.items()
    ]
    table = write_results(work_dir, records, METRICS)
    print(f'\nCR-ILD offline, seeds {args.seeds}, '
          f'{time.time() - start:.0f} s:\n\n{table}')


if __name__ == '__main__':
    main()
