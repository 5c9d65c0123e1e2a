# Copyright (c) mmsd contributors. All rights reserved.
"""The paper's ablations of self-distillation and repeated rounds, in the
regime where further pre-training overfits.

For every seed of ``benchmarks/reproduce_sd.py``'s ``TEACHERS.txt`` (its
further-pre-trained encoder FPT@S_max of a small Fashion-MNIST target set,
and the ``--cfg-options`` of that run: target set, seed, probes), runs
self-distillation only (stage 2: ``model.teacher_checkpoint`` = the
teacher, the student restarted from the initial model) with
``benchmarks/configs/sd-ablations_vit-tiny-p7_fashion-mnist.py`` for
``--distill-iters`` iterations per round (LinearLR 1 -> 0 over each round),
once per row:

- ``SD``: the paper's recipe (class token, λ = 1, MAE term on);
- ``from-teacher``: the student restarts from the teacher
  (``model.restart_from=teacher``);
- ``no-MAE``: no MAE term (``model.mae_loss_weight=0``);
- ``mean-patch``, ``all-tokens``: the distilled representation;
- ``λ=0.1``, ``λ=10``: the distillation weight;
- ``2 rounds``, ``3 rounds``: each round distils towards the previous
  round's student;
- ``best-step teacher``: the teacher is the FPT snapshot where that run's
  probe (``RepresentationProbeHook``, ``--select-by``, default the held-out
  MAE loss, which needs no labels) was best, instead of FPT@S_max.

Every run has the two probes of reproduce_sd.py (kNN and ridge linear top-1
on 1,000 unseen images, fitted on the target images with their labels
(``probe``) or on 500 other labelled images (``probe_unseen``); the MAE loss
on the 1,000 unseen images) and ``InitDistanceHook`` (‖θ − θ_init‖ of the
student's encoder). The FPT distance curve is read from the snapshots of
reproduce_sd.py's runs. Finished runs are reused and an interrupted one
resumes, so the script can be stopped and restarted. It prints and writes
``results.md`` (mean ± std over seeds, paired differences against SD),
``results.json`` and ``distance.png`` to ``--work-dir``.
"""
import argparse
import glob
import json
import math
import os.path as osp
import shlex
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmsd.experiments import train_or_resume
from mmsd.experiments.console import StageConsole
from mmsd.experiments.multi_seed import T_975, paired_difference
from mmsd.utils import load_checkpoint_file, read_state_dict

CONFIG = 'benchmarks/configs/sd-ablations_vit-tiny-p7_fashion-mnist.py'
STAGE_HOOK, PROBE_HOOKS, DISTANCE_HOOK = 0, (3, 4), 5
#: Row: (--cfg-options, rounds, teacher: 'last' or 'best').
ROWS = {
    'SD': ([], 1, 'last'),
    'from-teacher': (['model.restart_from=teacher'], 1, 'last'),
    'no-MAE': (['model.mae_loss_weight=0'], 1, 'last'),
    'mean-patch':
    (['model.distill_head.representation=mean_patch'], 1, 'last'),
    'all-tokens':
    (['model.distill_head.representation=all_tokens'], 1, 'last'),
    'λ=0.1': (['model.distill_head.loss_weight=0.1'], 1, 'last'),
    'λ=10': (['model.distill_head.loss_weight=10'], 1, 'last'),
    '2 rounds': ([], 2, 'last'),
    '3 rounds': ([], 3, 'last'),
    'best-step teacher': ([], 1, 'best'),
}
#: Reported values: (key in a probe record, prefix, name, higher is better).
METRICS = (('knn_top1', 'probe', 'kNN', True), ('linear_top1', 'probe',
                                                'linear', True),
           ('knn_top1', 'probe_unseen', 'kNN (unseen bank)',
            True), ('linear_top1', 'probe_unseen', 'linear (unseen bank)',
                    True), ('mae_heldout', 'probe', 'MAE held-out', False))


def read_teachers(path: str) -> Dict[int, dict]:
    """Seed -> teacher, S_max, target images and the run's options, from
    reproduce_sd.py's ``TEACHERS.txt`` (``seed N PATH S_MAX OPTIONS...``;
    the images are 10 x ``train_dataloader.dataset.num_per_class``)."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} does not exist: run benchmarks/reproduce_sd.py first '
            '(it lists its further-pre-trained teachers there).')
    teachers = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.startswith('#'):
                continue
            fields = shlex.split(line)
            if len(fields) < 5 or fields[0] != 'seed':
                raise ValueError(f'{path}, line {number}: expected "seed N '
                                 f'PATH S_MAX OPTIONS...", got '
                                 f'{line.strip()!r}.')
            seed, teacher = int(fields[1]), fields[2]
            if not osp.isfile(teacher):
                raise FileNotFoundError(
                    f'{path}, line {number}: the teacher of seed {seed}, '
                    f'{teacher}, does not exist.')
            options = fields[4:]
            if options and options[0].isdigit():  # an earlier images column
                options = options[1:]
            per_class = option(options,
                               'train_dataloader.dataset.num_per_class')
            teachers[seed] = dict(
                teacher=teacher,
                s_max=int(fields[3]),
                images=10 * int(per_class) if per_class else None,
                options=options)
    return teachers


def fpt_records(teacher: str) -> List[dict]:
    """The FPT probe records of reproduce_sd.py's run (``probe`` and
    ``probe_unseen`` merged by step), from the checkpoint at S_max."""
    states = load_checkpoint_file(teacher)['representation_probe']
    by_step: Dict[int, dict] = {}
    for prefix, state in states.items():
        for record in state['history']:
            if record['round'] == 0:
                by_step.setdefault(record['step'], {}).update({
                    f'{prefix}/{k}':
                    v
                    for k, v in record.items()
                })
    return [
        dict(step=step, **values) for step, values in sorted(by_step.items())
    ]


def best_snapshot(teacher: str, select_by: str) -> dict:
    """The FPT snapshot (``iter_S.pth`` beside the teacher) where the probe
    value ``select_by`` (``probe/mae_heldout``: lowest; accuracies:
    highest) was best; S = 0 is the initial model, not a snapshot."""
    sign = -1 if 'mae' in select_by else 1
    candidates = [
        r for r in fpt_records(teacher) if r['step'] > 0 and osp.isfile(
            osp.join(osp.dirname(teacher), f'iter_{r["step"]}.pth'))
        and r.get(select_by) is not None
    ]
    if not candidates:
        raise ValueError(f'No snapshot beside {teacher} has a probe record '
                         f'with {select_by}.')
    best = max(candidates, key=lambda r: (sign * r[select_by], -r['step']))
    return dict(
        step=best['step'],
        value=best[select_by],
        path=osp.join(osp.dirname(teacher), f'iter_{best["step"]}.pth'))


def run_options(entry: dict, row: str, teacher: str, distill: int,
                probe_interval: int) -> List[str]:
    options, rounds, _ = ROWS[row]
    s_max = entry['s_max']
    switches = [s_max + k * distill for k in range(rounds)]
    bounds = [0, s_max] + [s_max + k * distill for k in range(1, 4)]
    schedules = [
        f'param_scheduler.{i}.{key}={value}'
        for i, (begin, end) in enumerate(zip(bounds, bounds[1:]))
        for key, value in (('begin', begin), ('end', end))
    ]
    last = s_max + rounds * distill
    return [
        *entry['options'],
        f'model.teacher_checkpoint={teacher}',
        f'custom_hooks.{STAGE_HOOK}.switch_iter=' +
        (str(s_max) if rounds == 1 else '[' + ','.join(map(str, switches)) +
         ']'),
        *schedules,
        f'train_cfg.max_iters={last}',
        *(f'custom_hooks.{i}.interval={probe_interval}' for i in PROBE_HOOKS),
        f'default_hooks.checkpoint.interval={probe_interval}',
        'default_hooks.checkpoint.max_keep_ckpts=1',
        'default_hooks.logger.interval=50',
        *options,
    ]


def train(work_dir: str, options: Sequence[str], last: int,
          name: str) -> float:
    """``tools/train.py`` unless ``iter_{last}.pth`` exists (an interrupted
    run resumes); return the seconds it took (0 if reused)."""
    seconds = train_or_resume(CONFIG, work_dir, options, f'iter_{last}.pth',
                              name)
    if seconds:
        with open(osp.join(work_dir, 'seconds.txt'), 'a') as f:
            f.write(f'{seconds:.1f}\n')
    return seconds


def read_run(work_dir: str, last: int) -> dict:
    """Final probe values, the teacher probes and the distance curve of a
    finished run."""
    checkpoint = load_checkpoint_file(osp.join(work_dir, f'iter_{last}.pth'))
    final = {}
    teachers = {}
    for prefix, state in checkpoint['representation_probe'].items():
        record = state['history'][-1]
        if record['step'] != last:
            raise ValueError(f'{work_dir}: the last {prefix} record is at '
                             f'step {record["step"]}, not {last}.')
        final.update({f'{prefix}/{k}': v for k, v in record.items()})
        for t in state['teacher_history']:
            teachers.setdefault(t['round'], {}).update({
                f'{prefix}/teacher_{k}':
                v
                for k, v in t.items() if k.endswith('top1')
            })
    distance: Dict[int, float] = {}
    teacher_distance: Dict[int, float] = {}
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if 'dist_init/total' in record:
                    distance[record['step']] = record['dist_init/total']
                if 'dist_init/teacher' in record:
                    teacher_distance[record['step']] = \
                        record['dist_init/teacher']
    runs = [float(s) for s in open(osp.join(work_dir, 'seconds.txt'))] \
        if osp.isfile(osp.join(work_dir, 'seconds.txt')) else []
    return dict(
        final=final,
        teachers=teachers,
        distance=sorted(distance.items()),
        teacher_distance=sorted(teacher_distance.items()),
        seconds=sum(runs))


def fpt_distances(teacher: str, initial: str, s_max: int) -> List[tuple]:
    """‖θ_S − θ_init‖ of the FPT encoder at every snapshot S <= S_max of
    reproduce_sd's run, from the files (the student's ``backbone.``; later
    files hold its self-distilled student)."""
    init = read_state_dict(initial, 'backbone.')
    points = [(0, 0.0)]
    for path in glob.glob(osp.join(osp.dirname(teacher), 'iter_*.pth')):
        step = int(osp.basename(path)[len('iter_'):-len('.pth')])
        if step > s_max:
            continue
        state = read_state_dict(path, 'backbone.')
        total = sum(
            float((state[k].double() - init[k].double()).pow(2).sum())
            for k in init if k in state)
        points.append((step, math.sqrt(total)))
    return sorted(points)


def option(options: Sequence[str], key: str) -> Optional[str]:
    found = [o.split('=', 1)[1] for o in options if o.startswith(key + '=')]
    return found[-1] if found else None


def run(args: argparse.Namespace) -> dict:
    teachers = read_teachers(args.teachers)
    missing = [s for s in args.seeds if s not in teachers]
    if missing:
        raise ValueError(f'{args.teachers} has no teacher for seeds '
                         f'{missing} (it has {sorted(teachers)}).')
    work_dir = osp.abspath(args.work_dir)
    results = dict(args=vars(args), seeds={}, rows=list(args.rows))
    for seed in args.seeds:
        entry = teachers[seed]
        best = best_snapshot(entry['teacher'], args.select_by)
        fpt = {r['step']: r for r in fpt_records(entry['teacher'])}
        seed_result = dict(
            teacher=entry['teacher'],
            s_max=entry['s_max'],
            images=entry['images'],
            s_best=best['step'],
            fpt_at_s_max=fpt.get(entry['s_max']),
            fpt_at_s_best=fpt.get(best['step']),
            initial=fpt.get(0),
            rows={})
        initial = option(entry['options'], 'model.init_checkpoint')
        if initial is not None and args.fpt_distance:
            seed_result['fpt_distance'] = fpt_distances(
                entry['teacher'], initial, entry['s_max'])
        results['seeds'][seed] = seed_result
        print(
            f'\nSeed {seed}: teacher {entry["teacher"]} (S_max '
            f'{entry["s_max"]}); best {args.select_by} at S={best["step"]} '
            f'({best["value"]:.4f})',
            flush=True)
        for row in args.rows:
            _, rounds, which = ROWS[row]
            teacher = best['path'] if which == 'best' else entry['teacher']
            slug = row.replace(' ', '_').replace('λ', 'lambda')
            run_dir = osp.join(work_dir, f'seed{seed}', slug)
            last = entry['s_max'] + rounds * args.distill_iters
            seconds = train(
                run_dir,
                run_options(entry, row, teacher, args.distill_iters,
                            args.probe_interval), last, f'{row}, seed {seed}')
            seed_result['rows'][row] = read_run(run_dir, last)
            values = seed_result['rows'][row]['final']
            print(
                f'  {row:18s} ' + ', '.join(
                    f'{name} {values.get(f"{prefix}/{key}", math.nan):.3f}'
                    for key, prefix, name, _ in METRICS) +
                (f' ({seconds:.0f} s)' if seconds else ' (reused)'),
                flush=True)
    return results


def mean_std(values: Sequence[float], fmt: str) -> str:
    values = np.asarray(values, float)
    std = values.std(ddof=1) if len(values) > 1 else math.nan
    return f'{values.mean():{fmt}} ± {std:{fmt}}'


def report(results: dict) -> str:
    seeds = list(results['seeds'])
    rows = results['rows']
    args = results['args']
    by_seed = results['seeds']
    first = by_seed[seeds[0]]
    fmts = {name: '.3f' if 'MAE' in name else '.1f' for *_, name, _ in METRICS}
    lines = [
        f'Stage-2-only self-distillation, {args["distill_iters"]} iterations '
        f'per round, towards the FPT teacher of benchmarks/reproduce_sd.py '
        f'({first["images"]} target images, S_max={first["s_max"]}); seeds '
        f'{seeds}. Probe values of the final student (mean ± std over seeds; '
        'top-1 % on 1,000 unseen images; MAE loss on them); ‖θ − θ_init‖ of '
        'the final student.', '', '| row | ' +
        ' | '.join(name for *_, name, _ in METRICS) + ' | ‖θ − θ_init‖ |',
        '| --- |' + ' ---: |' * (len(METRICS) + 1)
    ]

    def value(seed, row, key, prefix):
        return by_seed[seed]['rows'][row]['final'].get(f'{prefix}/{key}',
                                                       math.nan)

    def distance(seed, row):
        return by_seed[seed]['rows'][row]['distance'][-1][1]

    for name, field in (('initial model', 'initial'), ('FPT@S_max (teacher)',
                                                       'fpt_at_s_max'),
                        ('FPT@S_best', 'fpt_at_s_best')):
        cells = []
        for key, prefix, metric, _ in METRICS:
            values = [(by_seed[s][field] or {}).get(f'{prefix}/{key}',
                                                    math.nan) for s in seeds]
            cells.append(mean_std(values, fmts[metric]))
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' | |')
    for row in rows:
        cells = [
            mean_std([value(s, row, key, prefix) for s in seeds], fmts[metric])
            for key, prefix, metric, _ in METRICS
        ]
        cells.append(mean_std([distance(s, row) for s in seeds], '.3f'))
        lines.append(f'| {row} | ' + ' | '.join(cells) + ' |')
    steps = [by_seed[s]['s_best'] for s in seeds]
    lines += [
        '', f'S_best per seed ({args["select_by"]}): {steps}.', '',
        'Paired differences against SD over seeds (row − SD; mean ± std of '
        'the differences, seeds where the row is better, paired t; * where '
        f'|t| > t(0.975, {len(seeds) - 1}) = '
        f'{T_975.get(len(seeds) - 1, 1.96)}):', '', '| row − SD | ' +
        ' | '.join(name for *_, name, _ in METRICS) + ' | ‖θ − θ_init‖ |',
        '| --- |' + ' ---: |' * (len(METRICS) + 1)
    ]
    results['paired'] = {}
    for row in rows:
        if row == 'SD':
            continue
        cells = []
        for key, prefix, metric, higher in METRICS:
            p = paired_difference([value(s, row, key, prefix) for s in seeds],
                                  [value(s, 'SD', key, prefix) for s in seeds])
            results['paired'][f'{row} - SD: {metric}'] = p
            better = p['higher'] if higher else p['lower']
            cells.append(
                f'{p["mean"]:+{fmts[metric]}} ± '
                f'{p["std"]:{fmts[metric]}} ({better}/{p["n"]}, '
                f't {p["t"]:+.1f}{"*" if p["beyond_spread"] else ""})')
        p = paired_difference([distance(s, row) for s in seeds],
                              [distance(s, 'SD') for s in seeds])
        results['paired'][f'{row} - SD: distance'] = p
        cells.append(f'{p["mean"]:+.3f} ± {p["std"]:.3f} '
                     f'(t {p["t"]:+.1f}{"*" if p["beyond_spread"] else ""})')
        lines.append(f'| {row} | ' + ' | '.join(cells) + ' |')
    seconds = sum(r['seconds'] for s in seeds
                  for r in by_seed[s]['rows'].values())
    lines += ['', f'Training wall time of the runs: {seconds:.0f} s.', '']
    return '\n'.join(lines)


def plot(results: dict, path: str) -> None:
    """‖θ − θ_init‖ against iterations: FPT (reproduce_sd.py's snapshots)
    and every self-distillation row, mean over seeds."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    seeds = list(results['seeds'])
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8))
    fpt = [results['seeds'][s].get('fpt_distance') for s in seeds]
    if all(fpt):
        steps = sorted(set.intersection(*(set(p for p, _ in c) for c in fpt)))
        mean = [np.mean([dict(c)[p] for c in fpt]) for p in steps]
        axes[0].plot(steps, mean, color='tab:orange', label='FPT')
        axes[0].set(
            title='Further pre-training (reproduce_sd.py snapshots)',
            xlabel='FPT iterations',
            ylabel='‖θ − θ_init‖ (encoder)')
    s_max = results['seeds'][seeds[0]]['s_max']
    for row in results['rows']:
        curves = [
            dict(results['seeds'][s]['rows'][row]['distance']) for s in seeds
        ]
        steps = sorted(set.intersection(*(set(c) for c in curves)))
        mean = [np.mean([c[p] for c in curves]) for p in steps]
        axes[1].plot([p - s_max for p in steps],
                     mean,
                     label=row,
                     ls='--' if 'rounds' in row else '-')
    if all(fpt):
        # The teacher's distance, for scale.
        teacher = np.mean([dict(c)[s_max] for c in fpt if s_max in dict(c)])
        axes[1].axhline(
            teacher, color='tab:orange', ls=':', label='FPT@S_max (teacher)')
    axes[1].set(
        title='Self-distillation (stage 2), mean over seeds',
        xlabel='self-distillation iterations',
        ylabel='‖θ − θ_init‖ (encoder)')
    axes[1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--teachers',
        required=True,
        help="reproduce_sd.py's TEACHERS.txt (read only)")
    parser.add_argument('--work-dir', default='work_dirs/sd_ablations')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument(
        '--rows',
        nargs='+',
        default=list(ROWS),
        choices=list(ROWS),
        help='rows to run (SD first: the others are compared with it)')
    parser.add_argument(
        '--distill-iters',
        type=int,
        default=200,
        help='self-distillation iterations per round')
    parser.add_argument(
        '--probe-interval',
        type=int,
        default=100,
        help='probe (and checkpoint) every this many iterations; must '
        'divide --distill-iters')
    parser.add_argument(
        '--select-by',
        default='probe/mae_heldout',
        help='the FPT probe value that picks the best-step teacher')
    parser.add_argument(
        '--no-fpt-distance',
        dest='fpt_distance',
        action='store_false',
        help="skip the FPT distance curve from reproduce_sd.py's snapshots")
    args = parser.parse_args()
    if args.distill_iters % args.probe_interval:
        parser.error('--probe-interval must divide --distill-iters')
    if 'SD' not in args.rows:
        parser.error('--rows must include SD (the reference)')
    args.rows = ['SD'] + [r for r in args.rows if r != 'SD']
    start = time.time()
    with StageConsole():
        results = run(args)
    text = report(results)
    results['wall_time_s'] = time.time() - start
    work_dir = osp.abspath(args.work_dir)
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1, default=str)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(text)
    plot(results, osp.join(work_dir, 'distance.png'))
    print('\n' + text)
    print(f'Wall time of this invocation: {results["wall_time_s"]:.0f} s; '
          f'wrote results.md, results.json and distance.png to {work_dir}')


if __name__ == '__main__':
    main()
