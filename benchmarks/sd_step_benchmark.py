# Copyright (c) mmsd contributors. All rights reserved.
"""Time one training step of MAE, an official-style self-distillation step
and mmsd's self-distillation step, in one process.

Variants (same ViT, same batch, AdamW, forward + backward + step):

- ``mae``: MMPretrain's ``MAE`` (one masked pass), the floor.
- ``official``: the official recipe written against transformers:
  ``ViTMAEForPreTraining`` gives the masked pass and its loss; the student's
  unmasked pass is the same model's encoder with ``mask_ratio`` set to 0;
  the teacher is a frozen ``ViTMAEModel`` with ``mask_ratio=0`` in eval mode
  under ``no_grad``; the loss adds the summed squared error of the final
  CLS tokens, averaged over the batch. Three encoder passes every step.
- ``mmsd``: :class:`mmsd.models.SelfDistillMAE` with and without the
  teacher-feature cache and the CLS-only last block, and (``*_rc``) with the
  first ``--recompute-layers`` layers of the student's unmasked pass
  recomputed in the backward pass (less memory, more time). With the cache the
  step is timed in its steady state (every sample already seen: the batch
  is re-used), hashing of the inputs included.

Repetitions are interleaved (one step of every variant per round) after a
warm-up round, so that load from other processes hits all variants alike.
Peak memory is measured per variant in a fresh subprocess: on the CPU the
growth of the process's resident memory from just before the model is built
to after two steps (``VmRSS`` before, ``VmHWM`` after, from
``/proc/self/status``; allocator caches included); on a GPU
``torch.cuda.max_memory_allocated``.

Example::

    OMP_NUM_THREADS=1 python benchmarks/sd_step_benchmark.py \\
        --arch s --batch 8 --reps 5
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict

import torch
from mmengine.logging import MMLogger

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# ViT sizes: MMPretrain arch name, width, heads, MLP width.
ARCHS = {
    's': ('deit-small', 384, 6, 1536),
    'b': ('b', 768, 12, 3072),
}
VARIANTS = {
    'mae': 'MMPretrain MAE step (1 pass)',
    'official': 'official-style SD, transformers (3 passes)',
    'mmsd': 'mmsd SD, no cache, full last block',
    'mmsd_cls': 'mmsd SD, no cache, CLS-only last block',
    'mmsd_cache': 'mmsd SD, cache, full last block',
    'mmsd_cache_cls': 'mmsd SD, cache, CLS-only last block (default)',
    'mmsd_cache_cls_rc': 'mmsd SD, cache, CLS-only, student layers recomputed',
}


def mmpretrain_model(arch: str, model_type: str, **kwargs):
    """MMPretrain's MAE ViT of the mmsd configs, random weights."""
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    import mmsd  # noqa: F401
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models',
                 f'sd_mae_vit-{arch}-p16.py'))
    cfg.model.pop('init_checkpoint')
    cfg.model.update(type=model_type, **kwargs)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def weight_bytes(module) -> int:
    if module is None:
        return 0
    return sum(p.numel() * p.element_size() for p in module.parameters())


def official_step(arch: str, inputs: torch.Tensor,
                  make_optimizer) -> Callable[[], None]:
    """The three-pass step of the official recipe, on transformers."""
    from transformers import ViTMAEConfig, ViTMAEForPreTraining, ViTMAEModel
    _, width, heads, mlp = ARCHS[arch]
    config = dict(
        hidden_size=width,
        num_hidden_layers=12,
        num_attention_heads=heads,
        intermediate_size=mlp,
        image_size=inputs.shape[-1],
        patch_size=16,
        qkv_bias=True,
        layer_norm_eps=1e-6,
        decoder_hidden_size=512,
        decoder_num_hidden_layers=8,
        decoder_num_attention_heads=16,
        decoder_intermediate_size=2048,
        norm_pix_loss=True,
        attn_implementation='sdpa')
    student = ViTMAEForPreTraining(ViTMAEConfig(mask_ratio=0.75, **config))
    teacher = ViTMAEModel(ViTMAEConfig(mask_ratio=0.0, **config))
    teacher.load_state_dict(student.vit.state_dict())
    teacher.eval().requires_grad_(False)
    student.train()
    optimizer = make_optimizer(student.parameters())

    @contextlib.contextmanager
    def unmasked(model):
        model.config.mask_ratio = 0.0
        try:
            yield
        finally:
            model.config.mask_ratio = 0.75

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = student(pixel_values=inputs).loss
        with unmasked(student):
            student_cls = student.vit(inputs).last_hidden_state[:, 0]
        with torch.no_grad():
            teacher_cls = teacher(inputs).last_hidden_state[:, 0]
        distill = (student_cls - teacher_cls).pow(2).sum(1).mean()
        (loss + distill).backward()
        optimizer.step()

    step.teacher_bytes = weight_bytes(teacher)
    return step


def mmpretrain_step(variant: str, args, inputs: torch.Tensor,
                    make_optimizer) -> Callable[[], None]:
    if variant == 'mae':
        model = mmpretrain_model(args.arch, 'MAE')
    else:
        model = mmpretrain_model(
            args.arch,
            'SelfDistillMAE',
            cls_only_last_block='_cls' in variant,
            student_recompute_layers=args.recompute_layers
            if variant.endswith('_rc') else 0)
        model.teacher.load_state_dict(model.backbone.state_dict())
        model.distill_enabled = True
        if 'cache' in variant:  # the pipeline is ours: deterministic
            from mmsd.models import TeacherFeatureCache
            model.use_teacher_cache(TeacherFeatureCache())
    model.to(inputs.device).train()
    optimizer = make_optimizer(
        [p for p in model.parameters() if p.requires_grad])

    def step():
        optimizer.zero_grad(set_to_none=True)
        losses = model.loss(inputs, [])
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optimizer.step()

    step.teacher_bytes = weight_bytes(getattr(model, 'teacher', None))
    return step


def build_step(variant: str, args, inputs: torch.Tensor):

    def make_optimizer(params):
        return torch.optim.AdamW(
            params, lr=1.5e-4, betas=(0.9, 0.95), weight_decay=0.01)

    torch.manual_seed(0)
    if variant == 'official':
        step = official_step(args.arch, inputs, make_optimizer)
    else:
        step = mmpretrain_step(variant, args, inputs, make_optimizer)
    amp = dict(bf16=torch.bfloat16, fp16=torch.float16).get(args.amp)
    if amp is None:
        return step

    def amp_step():  # no loss scaling: for timing only
        with torch.autocast(inputs.device.type, dtype=amp):
            step()

    amp_step.teacher_bytes = step.teacher_bytes
    return amp_step


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize()


def make_inputs(args) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(
        args.batch, 3, args.size, args.size,
        generator=generator).to(args.device)


def measure_memory(args) -> dict:
    """Peak memory of two steps of one variant (run in a fresh process)."""
    device = torch.device(args.device)
    inputs = make_inputs(args)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        # The high-water mark of this process's memory map (not
        # ru_maxrss, which Linux carries over from the parent across exec).
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # reset VmHWM to the current RSS
        before = proc_status('VmRSS')
    step = build_step(args.memory_of, args, inputs)
    for _ in range(2):
        step()
    sync(device)
    if device.type == 'cuda':
        peak = torch.cuda.max_memory_allocated() - before
    else:
        peak = proc_status('VmHWM') - before
    return dict(peak_bytes=peak, teacher_bytes=step.teacher_bytes)


def proc_status(key: str) -> int:
    """A memory figure of this process from ``/proc/self/status``, bytes."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    raise KeyError(f'{key} is not in /proc/self/status')


def time_steps(args) -> Dict[str, list]:
    device = torch.device(args.device)
    inputs = make_inputs(args)
    steps = {v: build_step(v, args, inputs) for v in args.variants}
    times = {v: [] for v in args.variants}
    for round_ in range(args.warmup + args.reps):
        for variant, step in steps.items():
            sync(device)
            start = time.perf_counter()
            step()
            sync(device)
            if round_ >= args.warmup:
                times[variant].append(time.perf_counter() - start)
        print(
            f'round {round_ + 1}/{args.warmup + args.reps}: ' +
            ', '.join(f'{v} {times[v][-1]:.2f}s' for v in steps if times[v]),
            flush=True)
    return times


def hashing_cost(args) -> float:
    from mmsd.models import sample_digests
    inputs = make_inputs(args)
    sample_digests(inputs)
    runs = []
    for _ in range(10):
        sync(inputs.device)
        start = time.perf_counter()
        sample_digests(inputs)
        sync(inputs.device)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', choices=sorted(ARCHS), default='s')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--recompute-layers',
        type=int,
        default=4,
        help='student layers recomputed in the *_rc variant')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--amp',
        choices=['none', 'bf16', 'fp16'],
        default='none',
        help='autocast dtype for every variant (timing only)')
    parser.add_argument(
        '--variants', nargs='+', choices=list(VARIANTS), default=VARIANTS)
    parser.add_argument('--no-memory', action='store_true')
    parser.add_argument('--out', help='also write the results as JSON here')
    parser.add_argument('--memory-of', help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.variants = list(args.variants)
    torch.set_num_threads(args.threads)
    # Keep MMEngine's per-parameter initialisation report out of the output.
    MMLogger.get_instance('sd_step_benchmark', log_level='WARNING')

    if args.memory_of:
        print(json.dumps(measure_memory(args)))
        return

    print(
        f'ViT-{args.arch.upper()}/16, {args.size} px, batch {args.batch}, '
        f'{args.device}, {args.threads} thread(s), amp={args.amp}, '
        f'torch {torch.__version__}; load: '
        f'{os.getloadavg()[0]:.2f} (1 min)',
        flush=True)
    times = time_steps(args)
    memory = {}
    if not args.no_memory:
        for variant in args.variants:
            command = [sys.executable, *sys.argv, '--memory-of', variant]
            out = subprocess.run(
                command, capture_output=True, text=True, check=True).stdout
            memory[variant] = json.loads(out.strip().splitlines()[-1])
    digest = hashing_cost(args)

    medians = {v: statistics.median(t) for v, t in times.items()}
    base = medians.get('mae')
    official = medians.get('official')
    print(f'\n{"variant":52s} {"median s":>9s} {"min-max s":>12s} '
          f'{"img/s":>7s} {"x MAE":>6s} {"x official":>10s} '
          f'{"peak MiB":>9s}')
    for variant in args.variants:
        med = medians[variant]
        low, high = min(times[variant]), max(times[variant])
        mem = memory.get(variant, {}).get('peak_bytes')
        print(f'{VARIANTS[variant]:52s} {med:9.2f} '
              f'{f"{low:.2f}-{high:.2f}":>12s} {args.batch / med:7.2f} '
              f'{med / base if base else float("nan"):6.2f} '
              f'{med / official if official else float("nan"):10.2f} '
              f'{mem / 2**20 if mem is not None else float("nan"):9.0f}')
    print(f'\ninput hashing for the cache: {1000 * digest:.1f} ms per batch '
          f'({100 * digest / medians.get("mmsd_cache_cls", digest):.1f} % '
          'of the cached step)')
    if 'mae' in memory and 'mmsd_cache_cls' in memory:
        mae = memory['mae']['peak_bytes'] / 2**20
        teacher = memory['mmsd_cache_cls']['teacher_bytes'] / 2**20
        print(f'peak-memory bound 1.25 x (MAE {mae:.0f} MiB + teacher '
              f'weights {teacher:.0f} MiB) = {1.25 * (mae + teacher):.0f} '
              'MiB')
    print(f'load after the run: {os.getloadavg()[0]:.2f} (1 min)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    args={
                        k: v
                        for k, v in vars(args).items() if k != 'memory_of'
                    },
                    times=times,
                    memory=memory,
                    hashing_s=digest),
                f,
                indent=1)


if __name__ == '__main__':
    main()
