# Copyright (c) mmsd contributors. All rights reserved.
"""The stages of the image demo (``tools/run_demo.py``), shared with the
benchmarks that build on it.

Chains the normal tools over the configs in ``configs/demo/``:

0. initial model: a tiny MAE pre-trained on MNIST digits (cached);
1. + 2. further pre-training long enough to memorise a small Fashion-MNIST
   target set, then self-distillation, both followed by a
   :class:`~mmsd.engine.hooks.RepresentationProbeHook`;
3. fine-tuning + test on the same small labelled set from the initial
   (FT), further-pre-trained (FPT) and self-distilled (SD) encoders.
"""
import os.path as osp
from typing import Dict, List, Sequence

import torch

from .console import StageConsole
from .tools import REPO, finetune_and_test, run_tool
from .work_dirs import last_checkpoint, read_scalars

CONFIGS = dict(
    stage0='configs/demo/mae_vit-tiny-p7_1xb64-3k_mnist-digits.py',
    sd='configs/demo/sd_vit-tiny-p7_1xb64-1k-500_fashion-mnist-100.py',
    ft='configs/demo/ft_vit-tiny-p7_1xb64-200_fashion-mnist-100.py')
ROWS = (('FT', 'initial model'), ('FPT', 'further pre-trained'),
        ('SD', 'self-distilled'))
#: The console line of each stage.
STAGE_NAMES = dict(
    stage0='Stage 0: initial model (MAE on digits)',
    sd='Stages 1+2: further pre-train, self-distil, probe',
    **{
        row: f'Stage 3: {row} fine-tune + test'
        for row, _ in ROWS
    })
#: The probe's warning that further pre-training overfits (a regular
#: expression of its log line), shown on the console.
OVERFITTING_WARNING = r'Further pre-training is overfitting'
#: The probe's keys shown, with their titles.
PROBE_KEYS = (('knn_top1', 'kNN top-1 (%)'), ('linear_top1',
                                              'linear top-1 (%)'),
              ('mae_heldout', 'MAE loss, unseen'), ('mae_train',
                                                    'MAE loss, target'))


def smoke_test_options() -> Dict[str, List[str]]:
    """``--cfg-options`` of each stage for 2 iterations per stage: the
    chain runs in a few minutes; the numbers mean nothing."""
    logged = ['train_cfg.max_iters=2', 'default_hooks.logger.interval=1']
    return dict(
        stage0=logged,
        sd=[
            *logged, 'custom_hooks.0.switch_iter=1', 'param_scheduler.0.end=1',
            'param_scheduler.1.begin=1', 'param_scheduler.1.end=2'
        ],
        ft=[*logged, 'train_cfg.val_interval=2'])


def probe_loader_options(key: str, value: str) -> List[str]:
    """``--cfg-options`` that set ``dataset.{key}`` in every dataloader of
    the SD config's probes (e.g. their ``data_root``)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, CONFIGS['sd']))
    return [
        f'custom_hooks.{i}.{loader}.dataset.{key}={value}'
        for i, hook in enumerate(cfg.custom_hooks)
        if hook['type'] == 'RepresentationProbeHook'
        for loader in ('bank_dataloader', 'query_dataloader',
                       'heldout_dataloader', 'train_eval_dataloader')
        if hook.get(loader)
    ]


def _max_iters(config: str, options: Sequence[str]) -> int:
    for option in options:
        if option.startswith('train_cfg.max_iters='):
            return int(option.partition('=')[2])
    from mmengine.config import Config
    return Config.fromfile(osp.join(REPO, config)).train_cfg.max_iters


def ensure_initial_model(stage0_dir: str,
                         options: Sequence[str] = (),
                         name: str = STAGE_NAMES['stage0']) -> str:
    """Train stage 0 unless a finished run is cached in ``stage0_dir`` (its
    last checkpoint is that of the last iteration); return its
    checkpoint."""
    final = f'iter_{_max_iters(CONFIGS["stage0"], options)}.pth'
    cached = osp.isfile(osp.join(stage0_dir, 'last_checkpoint')) and \
        osp.basename(last_checkpoint(stage0_dir)) == final
    if cached:
        StageConsole.current().skip(name, f'cached: {stage0_dir}')
    else:
        run_tool(
            'train',
            CONFIGS['stage0'],
            '--work-dir',
            stage0_dir,
            *(['--cfg-options', *options] if options else []),
            name=name)
    return last_checkpoint(stage0_dir)


def self_distill(sd_dir: str,
                 initial: str,
                 options: Sequence[str] = (),
                 name: str = STAGE_NAMES['sd']) -> Dict[str, str]:
    """Stages 1 + 2; return the encoders to fine-tune, by row."""
    run_tool(
        'train',
        CONFIGS['sd'],
        '--work-dir',
        sd_dir,
        '--cfg-options',
        f'model.init_checkpoint={initial}',
        *options,
        name=name)
    return dict(
        FT=initial,
        FPT=osp.join(sd_dir, 'fpt_backbone.pth'),
        SD=osp.join(sd_dir, 'sd_backbone.pth'))


def finetune(ft_dir: str,
             checkpoint: str,
             options: Sequence[str] = (),
             name: str = None) -> dict:
    """Stage 3 from the encoder ``checkpoint``; return the test metrics."""
    return finetune_and_test(
        ft_dir, checkpoint, CONFIGS['ft'], options, name=name)


def run_pipeline(
    work_dir: str,
    seed: int = 0,
    stage0_options: Sequence[str] = (),
    sd_options: Sequence[str] = (),
    ft_options: Sequence[str] = ()
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
        finetune(
            osp.join(work_dir, f'ft_{row.lower()}'),
            checkpoint, [*seeded, *ft_options],
            name=STAGE_NAMES[row])
        for row, checkpoint in encoders.items()
    }


def results_table(results: Dict[str, dict]) -> str:
    """The Markdown table of top-1 accuracies, one row per encoder."""
    lines = ['| encoder fine-tuned | top-1 (%) |', '| --- | ---: |']
    for row, description in ROWS:
        top1 = results[row]['accuracy/top1']
        lines.append(f'| {row} ({description}) | {top1:.2f} |')
    return '\n'.join(lines)


def probe_curves(sd_dir: str, prefix: str = 'probe') -> dict:
    """The probe records of stages 1 + 2, read from the run's last
    checkpoint.

    Returns:
        dict: ``fpt`` and ``sd``: ``{step: record}``, FPT by further
        pre-training step, SD by self-distillation step (at 0 the initial
        model, which the student restarts from); ``switch``: the step where
        self-distillation started; ``warning``: the overfitting warning
        (``step`` and ``message``) or None.
    """
    path = last_checkpoint(sd_dir)
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    state = checkpoint.get('representation_probe', {}).get(prefix)
    if state is None:
        raise KeyError(f'{path} holds no records of the probe {prefix!r}: '
                       f'{CONFIGS["sd"]} must keep its '
                       'RepresentationProbeHook.')
    history = state['history']
    fpt = {r['step']: r for r in history if not r['distilling']}
    switch = state['teacher_history'][0]['step'] \
        if state['teacher_history'] else max(fpt)
    if switch not in fpt and state['teacher_history']:
        # Stage 1's end not probed as the student: the teacher's record.
        fpt[switch] = dict(state['teacher_history'][0], distilling=False)
    sd = {r['step'] - switch: r for r in history if r['distilling']}
    if 0 in fpt:
        sd.setdefault(0, fpt[0])
    return dict(fpt=fpt, sd=sd, switch=switch, warning=state['warning'])


def probe_table(curves: dict) -> str:
    """The Markdown table of the probe at the points that tell the story:
    the initial model, FPT where its held-out MAE loss was lowest and at
    its end (the teacher), and the SD student at its end."""
    fpt, sd = curves['fpt'], curves['sd']
    rows = [('initial model', 0, fpt[0])] if 0 in fpt else []
    heldout = {
        s: r['mae_heldout']
        for s, r in fpt.items() if r.get('mae_heldout') is not None
    }
    if heldout:
        best = min(heldout, key=heldout.get)
        if best != 0:
            rows.append(('FPT, lowest unseen MAE loss', best, fpt[best]))
    last = max(fpt)
    rows.append(('FPT, end (the teacher)', last, fpt[last]))
    if max(sd) > 0:
        rows.append(('SD student, end', max(sd), sd[max(sd)]))
    keys = [(k, t) for k, t in PROBE_KEYS if any(k in r for *_, r in rows)]
    lines = [
        '| probed encoder | iteration | ' + ' | '.join(t for _, t in keys) +
        ' |', '| --- | ---: |' + ' ---: |' * len(keys)
    ]
    for name, step, record in rows:
        cells = [
            '–' if record.get(k) is None else
            (f'{record[k]:.3f}' if k.startswith('mae') else f'{record[k]:.1f}')
            for k, _ in keys
        ]
        lines.append(f'| {name} | {step} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_regime(curves: dict, results: Dict[str, dict], path: str) -> None:
    """The demo's story in three panels: the probe accuracy of FPT and SD
    against their steps (the paper's Figure 1), their MAE losses on the
    target images and on unseen ones, and the fine-tuned accuracies."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 4.2))
    colors = dict(fpt='tab:orange', sd='tab:green')
    names = dict(fpt='FPT', sd='SD student')
    for stage in ('fpt', 'sd'):
        curve = curves[stage]
        steps = sorted(curve)

        def draw(ax, key, style, label):
            points = [(s, curve[s][key]) for s in steps
                      if curve[s].get(key) is not None]
            if points:
                ax.plot(
                    *zip(*points),
                    style,
                    color=colors[stage],
                    marker='.',
                    label=f'{names[stage]}: {label}')

        draw(axes[0], 'knn_top1', '-', 'kNN')
        draw(axes[0], 'linear_top1', ':', 'linear')
        draw(axes[1], 'mae_heldout', '-', 'unseen images')
        draw(axes[1], 'mae_train', '--', 'target images')
    warning = curves['warning']
    for ax in axes[:2]:
        if warning:
            ax.axvline(
                warning['step'],
                color='tab:red',
                lw=0.8,
                ls='--',
                label=f'overfitting warning ({warning["step"]})')
        ax.set(xlabel='iterations of the stage (FPT: further pre-training,'
               ' SD: self-distillation)')
        ax.legend(fontsize=8)
    axes[0].set(
        title='Probe on 1,000 unseen images (bank: the 100 '
        'target images)',
        ylabel='top-1 (%)')
    axes[1].set(title='MAE loss (fixed masks)', ylabel='MAE loss')
    top1 = [results[row]['accuracy/top1'] for row, _ in ROWS]
    bars = axes[2].bar([row for row, _ in ROWS],
                       top1,
                       color=['gray', colors['fpt'], colors['sd']])
    axes[2].bar_label(bars, fmt='%.1f')
    axes[2].set(
        title='Fine-tuned on the 100 labelled images: test top-1 (%)',
        ylim=(min(top1) - 5, max(top1) + 3))
    fig.tight_layout()
    fig.savefig(path, dpi=100)


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
