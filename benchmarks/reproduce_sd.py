# Copyright (c) mmsd contributors. All rights reserved.
"""The paper's regime at small scale: further pre-training that memorises a
small target set, and what self-distillation changes.

On the embedded Fashion-MNIST (target) with the digit MAE of ``make demo``
(initial model), for every target-set size and seed:

1. One two-stage run of ``benchmarks/configs/sd_vit-tiny-p7_fashion-mnist_
   two-probes.py`` (the demo's): ``S_max`` iterations of further
   pre-training (FPT) on the target images, then ``--distill-iters`` of
   self-distillation (SD) towards the encoder at ``S_max``, both on the
   ``S_max``-iteration linear-decay schedule; two
   :class:`RepresentationProbeHook` every ``--probe-interval`` iterations
   (kNN and linear probe fitted on the target images with their labels, and
   on 500 other labelled images; MAE loss on 1,000 images never trained on
   and on the target images); a checkpoint every ``--snapshot-interval``.
2. ``S_best`` and ``S_worst``: the snapshot steps where the FPT probe
   ``--select-by`` (default: the held-out MAE loss, which needs no labels),
   averaged over seeds, is best and worst.
3. At both: FPT@S is the run's encoder at step S; SD@S is the student after
   ``--distill-iters`` steps of self-distillation towards FPT@S on the same
   schedule (the run's own student when S = S_max, else a run with FPT@S
   as ``teacher_checkpoint``).
4. FT (the initial model), FPT@S and SD@S are fine-tuned on the same small
   labelled set (the target images with their labels,
   ``configs/demo/ft_vit-tiny-p7_1xb64-200_fashion-mnist-100.py``) and
   tested on the 1,000 embedded test images.

Finished runs are reused, so the script can be stopped and restarted. It
prints and writes ``results.md`` (tables, paired comparisons over seeds),
``results.json`` and ``results.png`` (Figure-1 analogue and the MAE losses).
"""
import argparse
import glob
import json
import os
import os.path as osp
import time
from typing import List, Sequence

import numpy as np
import torch
from mmengine.config import Config

from mmsd.experiments import (REPO, finetune_and_test, finished_metrics,
                              train_or_resume)
from mmsd.experiments.demo import ensure_initial_model
from mmsd.experiments.multi_seed import T_975, paired_difference

SD_CONFIG = 'benchmarks/configs/sd_vit-tiny-p7_fashion-mnist_two-probes.py'
FT_CONFIG = 'configs/demo/ft_vit-tiny-p7_1xb64-200_fashion-mnist-100.py'


def hook_indices(cfg: Config, hook_type: str) -> List[int]:
    indices = [
        i for i, hook in enumerate(cfg.custom_hooks)
        if hook['type'] == hook_type
    ]
    if not indices:
        raise KeyError(f'{SD_CONFIG} has no {hook_type} in custom_hooks.')
    return indices


class Protocol:
    """The ``--cfg-options`` of every run, from the command line."""

    def __init__(self, args: argparse.Namespace, initial: str) -> None:
        cfg = Config.fromfile(osp.join(REPO, SD_CONFIG))
        self.stage, = hook_indices(cfg, 'SelfDistillStageHook')
        self.optimizer = cfg.optim_wrapper.optimizer
        self.probes = hook_indices(cfg, 'RepresentationProbeHook')
        # Probe loaders: (option prefix, whether it reads the target set,
        # i.e. the first images per class of the draw).
        self.loaders, skips = [], []
        for i in self.probes:
            for key, value in cfg.custom_hooks[i].items():
                if key.endswith('_dataloader') and value:
                    skip = value['dataset'].get('skip_per_class', 0)
                    self.loaders.append((f'custom_hooks.{i}.{key}', not skip))
                    skips += [skip] if skip else []
        if max(args.sizes) > min(skips):
            raise ValueError(
                f'--sizes {max(args.sizes)} per class would overlap the '
                f'unseen probe images, which start at {min(skips)} per '
                f'class in {SD_CONFIG}.')
        if args.snapshot_interval % args.probe_interval or \
                args.further_iters % args.snapshot_interval:
            raise ValueError('--snapshot-interval must be a multiple of '
                             '--probe-interval and divide --further-iters.')
        self.args = args
        self.initial = initial

    def data(self, per_class: int, seed: int) -> List[str]:
        """The seed, and the target set: ``per_class`` images per class
        drawn with the seed (the probe sets come from the same draw)."""
        options = [
            f'randomness.seed={seed}',
            f'train_dataloader.dataset.num_per_class={per_class}',
            f'train_dataloader.dataset.subset_seed={seed}'
        ]
        for loader, is_target in self.loaders:
            options.append(f'{loader}.dataset.subset_seed={seed}')
            if is_target:
                options.append(f'{loader}.dataset.num_per_class={per_class}')
        return options

    def pretrain(self, per_class: int, seed: int,
                 distill_steps: int) -> List[str]:
        """FPT for S_max iterations, then ``distill_steps`` of SD on the
        S_max-iteration schedule."""
        s_max = self.args.further_iters
        return [
            f'model.init_checkpoint={self.initial}',
            f'custom_hooks.{self.stage}.switch_iter={s_max}',
            *(f'custom_hooks.{i}.interval={self.args.probe_interval}'
              for i in self.probes),
            f'train_cfg.max_iters={s_max + distill_steps}',
            f'param_scheduler.0.end={s_max}',
            f'param_scheduler.1.begin={s_max}',
            f'param_scheduler.1.end={2 * s_max}',
            f'default_hooks.checkpoint.interval='
            f'{self.args.snapshot_interval}',
            'default_hooks.checkpoint.max_keep_ckpts=-1',
            *self.data(per_class, seed)
        ]

    def finetune(self, per_class: int, seed: int) -> List[str]:
        iters = self.args.ft_iters
        return [
            f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            f'param_scheduler.1.end={iters}',
            f'default_hooks.checkpoint.interval={iters}',
            f'randomness.seed={seed}',
            f'train_dataloader.dataset.num_per_class={per_class}',
            f'train_dataloader.dataset.subset_seed={seed}'
        ]


def check_options(work_dir: str, options: Sequence[str]) -> None:
    """Record the run's ``--cfg-options`` in ``{work_dir}/options.json``;
    refuse to reuse or resume a run made with other options."""
    path = osp.join(work_dir, 'options.json')
    if osp.isfile(path):
        with open(path) as f:
            recorded = json.load(f)
        if recorded != list(options):
            changed = sorted(set(recorded) ^ set(options))
            raise ValueError(
                f'{work_dir} holds a run made with other options '
                f'({path}; differing: {changed}). Give another --work-dir '
                'or delete that folder.')
        return
    os.makedirs(work_dir, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(list(options), f, indent=1)


def train(work_dir: str, options: Sequence[str], final: str) -> str:
    """``tools/train.py`` unless ``final`` (a checkpoint name) exists;
    an interrupted run resumes. Returns the final checkpoint's path."""
    check_options(work_dir, options)
    seconds = train_or_resume(SD_CONFIG, work_dir, options, final)
    if seconds:
        print(f'  {osp.relpath(work_dir)}: {seconds:.0f} s', flush=True)
    return osp.join(work_dir, final)


def curves(checkpoint: str, s_max: int) -> dict:
    """FPT and SD probe curves of a two-stage run, by step S of each: the
    records of both probes (``probe_unseen``'s keys start with
    ``unseen_``)."""
    states = torch.load(
        checkpoint, map_location='cpu',
        weights_only=True)['representation_probe']
    fpt, sd = {}, {}
    for prefix, state in states.items():
        name = prefix[len('probe_'):] + '_' if prefix != 'probe' else ''
        for record in state['history']:
            curve, step = (sd, record['step'] - s_max) if \
                record['distilling'] else (fpt, record['step'])
            curve.setdefault(step, {}).update({
                name + key: value
                for key, value in record.items()
            })
    if 0 in fpt and 0 not in sd and s_max in fpt:
        # The student restarts from the initial weights: SD at 0 is FPT at 0
        # (a two-stage run probes it once).
        sd[0] = fpt[0]
    warning = states['probe']['warning']
    return dict(fpt=fpt, sd=sd, warning=warning and warning['step'])


def write_teachers(path: str, header: Sequence[str], lines: Sequence[str]):
    """The FPT teachers at S_max, one line per finished seed, for other
    experiments (e.g. the ablations) that start from them."""
    with open(path + '.tmp', 'w') as f:
        f.write('\n'.join([*header, *lines]) + '\n')
    os.replace(path + '.tmp', path)


def mean_std(values: Sequence[float]) -> str:
    values = np.asarray(values, dtype=float)
    return f'{values.mean():.2f} ± {values.std(ddof=1):.2f}'


def run(args: argparse.Namespace) -> dict:
    work_dir = osp.abspath(args.work_dir)
    initial = ensure_initial_model(osp.join(work_dir, 'stage0'))
    protocol = Protocol(args, initial)
    s_max, snap = args.further_iters, args.snapshot_interval
    sd_iters = args.distill_iters
    results = dict(args=vars(args), sizes={}, wall_times={})
    teachers_file = osp.join(work_dir, 'TEACHERS.txt')
    teachers_header = [
        f'# FPT teachers of benchmarks/reproduce_sd.py: {SD_CONFIG}',
        f'# S_max={s_max} further pre-training iterations from {initial}, '
        f'then {sd_iters} self-distillation iterations towards FPT@S_max;',
        f'# lr {protocol.optimizer["lr"]} ({protocol.optimizer["type"]}, '
        'the config\'s), LinearLR 1 -> 0 over [0, '
        f'{s_max}) and again from {s_max} (restarted for SD; the SD stage '
        f'stops after {sd_iters} of its {s_max} iterations).',
        '# Columns: seed, FPT@S_max checkpoint (the student backbone at '
        'S_max, i.e. the further pre-trained encoder), S_max, the '
        '--cfg-options of the run (target set: train_dataloader.dataset.'
        'num_per_class images of each of the 10 classes).'
    ]
    teachers = []
    for per_class in args.sizes:
        size = dict(curves={}, finetune={})
        results['sizes'][str(10 * per_class)] = size
        runs, final_students = {}, {}
        print(
            f'\n{10 * per_class} target images: FPT {s_max} + SD {sd_iters} '
            f'iterations per seed',
            flush=True)
        for seed in args.seeds:
            root = osp.join(
                work_dir,
                f'n{10 * per_class}_fpt{s_max}_sd{sd_iters}_seed{seed}')
            runs[seed] = root
            start = time.time()
            options = protocol.pretrain(per_class, seed, sd_iters)
            final = train(
                osp.join(root, 'fpt_sd'), options,
                f'iter_{s_max + sd_iters}.pth')
            results['wall_times'][osp.relpath(final, work_dir)] = \
                time.time() - start
            teachers.append(
                f'seed {seed} {osp.join(root, "fpt_sd", f"iter_{s_max}.pth")}'
                f' {s_max} ' + ' '.join(options))
            write_teachers(teachers_file, teachers_header, teachers)
            final_students[seed] = final
            # Only stage 1's snapshots and the final student are used.
            for path in glob.glob(osp.join(root, 'fpt_sd', 'iter_*.pth')):
                step = int(osp.basename(path)[len('iter_'):-len('.pth')])
                if step > s_max and path != final:
                    os.remove(path)
            size['curves'][seed] = curves(final, s_max)
        key = args.select_by
        steps = list(range(snap, s_max + 1, snap))
        curve = {
            s:
            np.mean(
                [size['curves'][seed]['fpt'][s][key] for seed in args.seeds])
            for s in steps
        }
        # Higher is better for accuracies, lower for MAE losses.
        sign = -1 if key.startswith('mae') else 1
        best = max(steps, key=lambda s: (sign * curve[s], -s))
        worst = min(steps, key=lambda s: (sign * curve[s], -s))
        size['s_best'], size['s_worst'] = best, worst
        print(
            f'  FPT probe {key} (mean over seeds): best at S={best} '
            f'({curve[best]:.3f}), worst at S={worst} ({curve[worst]:.3f})',
            flush=True)
        for seed in args.seeds:
            root = runs[seed]
            ft = protocol.finetune(per_class, seed)
            encoders = dict(FT=initial)
            for s in dict.fromkeys((best, worst)):
                encoders[f'FPT@{s}'] = osp.join(root, 'fpt_sd',
                                                f'iter_{s}.pth')
                if s == s_max:
                    encoders[f'SD@{s}'] = final_students[seed]
                else:
                    encoders[f'SD@{s}'] = train(
                        osp.join(root, f'sd_teacher{s}'), [
                            *protocol.pretrain(per_class, seed, sd_iters),
                            f'model.teacher_checkpoint={encoders[f"FPT@{s}"]}',
                            'default_hooks.checkpoint.interval='
                            f'{s_max + sd_iters}'
                        ], f'iter_{s_max + sd_iters}.pth')
            for row, encoder in encoders.items():
                ft_dir = osp.join(root, 'ft_' + row.lower().replace('@', '_'))
                metrics = finished_metrics(ft_dir)
                if metrics is None:
                    start = time.time()
                    os.makedirs(ft_dir, exist_ok=True)
                    metrics = finetune_and_test(ft_dir, encoder, FT_CONFIG, ft)
                    print(
                        f'  {osp.relpath(ft_dir)}: top-1 '
                        f'{metrics["accuracy/top1"]:.2f} '
                        f'({time.time() - start:.0f} s)',
                        flush=True)
                size['finetune'].setdefault(
                    row, {})[seed] = metrics['accuracy/top1']
    return results


def curve_stats(size: dict, stage: str, key: str, seeds: Sequence[int]):
    """Steps, mean and std over seeds of one probe curve."""
    # The steps every seed probed.
    steps = sorted(
        set.intersection(*(set(size['curves'][seed][stage])
                           for seed in seeds)))
    values = np.array(
        [[size['curves'][seed][stage][s].get(key, np.nan) for s in steps]
         for seed in seeds])
    return np.array(steps), values.mean(0), values.std(0, ddof=1)


CURVE_COLUMNS = (('knn_top1', 'kNN'), ('linear_top1', 'linear'),
                 ('unseen_knn_top1', 'kNN (unseen bank)'),
                 ('unseen_linear_top1', 'linear (unseen bank)'),
                 ('mae_heldout', 'MAE held-out'), ('mae_train', 'MAE train'))


def report(results: dict) -> str:
    args = results['args']
    seeds = args['seeds']
    lines = []
    for images, size in results['sizes'].items():
        best, worst = size['s_best'], size['s_worst']
        ft = size['finetune']
        lines += [
            f'### {images} target images', '',
            f'Fine-tuned test top-1 (%) on the 1,000 test images after '
            f'fine-tuning on the {images} labelled target images; S_best='
            f'{best} and S_worst={worst} are where the FPT probe '
            f'{args["select_by"]} (mean over seeds) is best and worst:', '',
            '| row | ' + ' | '.join(f'seed {s}'
                                    for s in seeds) + ' | mean ± std |',
            '| --- |' + ' ---: |' * (len(seeds) + 1)
        ]
        for row, by_seed in ft.items():
            values = [by_seed[s] for s in seeds]
            lines.append(f'| {row} | ' + ' | '.join(f'{v:.1f}'
                                                    for v in values) +
                         f' | {mean_std(values)} |')
        lines += [
            '', 'Paired differences over seeds (top-1 points; t: paired '
            f't statistic, * where |t| > t(0.975, {len(seeds) - 1}) = '
            f'{T_975[len(seeds) - 1]}, i.e. beyond the spread):', '',
            '| a − b | mean ± std | seeds a > b / a < b | t |',
            '| --- | ---: | ---: | ---: |'
        ]
        pairs = []
        for s in dict.fromkeys((worst, best)):
            pairs += [(f'SD@{s}', f'FPT@{s}'), (f'SD@{s}', 'FT'),
                      (f'FPT@{s}', 'FT')]
        if best != worst:
            pairs += [(f'FPT@{best}', f'FPT@{worst}'),
                      (f'SD@{worst}', f'FPT@{best}')]
        size['paired'] = {}
        for a, b in pairs:
            result = paired_difference([ft[a][s] for s in seeds],
                                       [ft[b][s] for s in seeds])
            size['paired'][f'{a} - {b}'] = result
            lines.append(f'| {a} − {b} | {result["mean"]:+.2f} ± '
                         f'{result["std"]:.2f} | {result["higher"]} / '
                         f'{result["lower"]} | {result["t"]:+.2f}'
                         f'{"*" if result["beyond_spread"] else ""} |')
        warned = [
            size['curves'][s]['warning'] for s in seeds
            if size['curves'][s]['warning'] is not None
        ]
        lines += [
            '', 'Probe curves, mean ± std over seeds: FPT at step S; SD = '
            'the student after S steps of self-distillation towards '
            f'FPT@{args["further_iters"]} (SD at S=0 is the initial model, '
            'FPT at S=0). kNN and linear are fitted on the target images '
            'with their labels, "unseen bank" on 500 other labelled images; '
            'all classify 1,000 images never trained on (top-1 %). The '
            'overfitting warning fired in '
            f'{len(warned)}/{len(seeds)} runs, at steps {warned}.', '',
            '| S | ' + ' | '.join(f'{name} FPT / SD'
                                  for _, name in CURVE_COLUMNS) + ' |',
            '| ---: |' + ' ---: |' * len(CURVE_COLUMNS)
        ]
        stats = {
            (stage, key): curve_stats(size, stage, key, seeds)
            for stage in ('fpt', 'sd')
            for key, _ in CURVE_COLUMNS
        }

        def cell(stage, key, s):
            steps, mean, std = stats[(stage, key)]
            if s not in steps:
                return '–'
            i = list(steps).index(s)
            fmt = '.3f' if key.startswith('mae') else '.1f'
            return f'{mean[i]:{fmt}} ± {std[i]:{fmt}}'

        s_max = args['further_iters']
        probed = {*stats[('fpt', 'mae_heldout')][0]}
        shown = sorted(
            probed if len(probed) <= 15 else
            {0, 100, 200, 300, 500, best, worst, *range(1000, s_max + 1, 500)}
            & probed)
        for s in shown:
            lines.append(f'| {s} | ' + ' | '.join(
                f'{cell("fpt", key, s)} / {cell("sd", key, s)}'
                for key, _ in CURVE_COLUMNS) + ' |')
        lines += ['', *probe_pairs(size, seeds, s_max, best), '']
    return '\n'.join(lines)


def probe_pairs(size: dict, seeds: Sequence[int], s_max: int,
                best: int) -> List[str]:
    """Paired differences over seeds of the probe: the SD student at its
    end against its teacher FPT@S_max and against FPT@S_best, and
    FPT@S_max against FPT@S_best."""
    sd_end = min(max(size['curves'][seed]['sd']) for seed in seeds)
    points = [(('sd', sd_end), ('fpt', s_max)),
              (('sd', sd_end), ('fpt', best)), (('fpt', s_max), ('fpt', best))]
    names = dict(fpt='FPT@{}', sd='SD student after {} steps')
    lines = [
        'Paired differences of the probe over seeds (a − b; * beyond the '
        'spread, as above):', '',
        '| a − b | ' + ' | '.join(name for _, name in CURVE_COLUMNS) + ' |',
        '| --- |' + ' ---: |' * len(CURVE_COLUMNS)
    ]
    for a, b in points:
        if a == b:
            continue
        cells = []
        for key, _ in CURVE_COLUMNS:
            values = [[
                size['curves'][seed][stage][step].get(key) for seed in seeds
            ] for stage, step in (a, b)]
            if None in values[0] + values[1]:
                cells.append('–')
                continue
            result = paired_difference(*values)
            fmt = '.3f' if key.startswith('mae') else '.1f'
            cells.append(f'{result["mean"]:+{fmt}} ± {result["std"]:{fmt}}'
                         f'{"*" if result["beyond_spread"] else ""} '
                         f'({result["higher"]}/{len(seeds)})')
        lines.append(f'| {names[a[0]].format(a[1])} − '
                     f'{names[b[0]].format(b[1])} | ' + ' | '.join(cells) +
                     ' |')
    return lines


def plot(results: dict, path: str) -> None:
    """Per target size: the Figure-1 analogue (probe accuracy against S
    for FPT and SD, and the fine-tuned top-1 at S_best and S_worst), the
    probe fitted on the unseen bank, and the train vs held-out MAE loss."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    seeds = results['args']['seeds']
    sizes = results['sizes']
    fig, axes = plt.subplots(
        len(sizes), 4, figsize=(22, 4.2 * len(sizes)), squeeze=False)
    colors = dict(fpt='tab:orange', sd='tab:green')
    names = dict(fpt='FPT', sd='SD')

    def band(ax, size, stage, key, style, label):
        steps, mean, std = curve_stats(size, stage, key, seeds)
        ax.plot(steps, mean, style, color=colors[stage], label=label)
        ax.fill_between(
            steps, mean - std, mean + std, color=colors[stage], alpha=0.12)

    for (images, size), row in zip(sizes.items(), axes):
        for stage in ('fpt', 'sd'):
            for ax, prefix in ((row[0], ''), (row[1], 'unseen_')):
                band(ax, size, stage, prefix + 'knn_top1', '-',
                     f'{names[stage]} kNN')
                band(ax, size, stage, prefix + 'linear_top1', ':',
                     f'{names[stage]} linear')
            band(row[2], size, stage, 'mae_heldout', '-',
                 f'{names[stage]} held-out')
            band(row[2], size, stage, 'mae_train', '--',
                 f'{names[stage]} train')
        row[0].set(
            title=f'{images} images: probe fitted on the target labels',
            ylabel='top-1 on unseen images (%)')
        row[1].set(title=f'{images} images: probe fitted on 500 unseen')
        row[2].set(
            title=f'{images} images: MAE loss (fixed masks)',
            ylabel='MAE loss')
        ft = size['finetune']
        row[3].axhline(
            np.mean([ft['FT'][s] for s in seeds]),
            color='gray',
            ls='--',
            label='FT (initial model)')
        for stage in ('fpt', 'sd'):
            points = sorted(
                (int(name.split('@')[1]), [ft[name][s] for s in seeds])
                for name in ft if name.startswith(names[stage] + '@'))
            row[3].errorbar([p[0] for p in points],
                            [np.mean(p[1]) for p in points],
                            yerr=[np.std(p[1], ddof=1) for p in points],
                            color=colors[stage],
                            marker='o',
                            capsize=4,
                            ls='none',
                            label=names[stage])
        row[3].set(
            title=f'{images} images: fine-tuned on the same labels',
            ylabel='test top-1 (%)')
        for ax in row:
            ax.set(xlabel='steps S')
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/benchmark_sd')
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[10, 50],
        help='target images per class (10 classes)')
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument(
        '--further-iters',
        type=int,
        default=3000,
        help='S_max: further pre-training iterations')
    parser.add_argument(
        '--distill-iters',
        type=int,
        default=1000,
        help='self-distillation iterations towards every teacher')
    parser.add_argument('--probe-interval', type=int, default=200)
    parser.add_argument('--snapshot-interval', type=int, default=200)
    parser.add_argument('--ft-iters', type=int, default=200)
    parser.add_argument(
        '--select-by',
        default='mae_heldout',
        help='the FPT probe curve that picks S_best and S_worst: '
        'mae_heldout (lowest is best), knn_top1, linear_top1, ...')
    args = parser.parse_args()
    start = time.time()
    results = run(args)
    work_dir = osp.abspath(args.work_dir)
    text = report(results)
    results['wall_time_s'] = time.time() - start
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1, default=str)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(text + f'\nWall time: {results["wall_time_s"]:.0f} s\n')
    plot(results, osp.join(work_dir, 'results.png'))
    print('\n' + text)
    print(f'Wall time: {results["wall_time_s"]:.0f} s; wrote results.md, '
          f'results.json and results.png to {work_dir}')


if __name__ == '__main__':
    main()
