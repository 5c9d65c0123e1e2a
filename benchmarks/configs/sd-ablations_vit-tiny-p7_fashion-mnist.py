# The self-distillation runs of benchmarks/sd_ablations.py: stage 2 only,
# towards a further-pre-trained teacher of benchmarks/reproduce_sd.py, on
# the same target set and probes (the hooks keep their indices, so that
# script's --cfg-options apply), plus InitDistanceHook. One LinearLR
# (1 -> 0) per stage: further pre-training (skipped, the teacher is given)
# and up to three rounds of self-distillation; the script sets their spans.
# ExportBackboneHook keeps only the student's encoder: a teacher export
# would hold only the last round's teacher with several rounds.
_base_ = './sd_vit-tiny-p7_fashion-mnist_two-probes.py'

further_iters = 3000
distill_iters = 300
bounds = [0] + [further_iters + k * distill_iters for k in range(4)]
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=begin,
        end=end) for begin, end in zip(bounds, bounds[1:])
]
train_cfg = dict(max_iters=further_iters + distill_iters)
custom_hooks = [
    dict(type='SelfDistillStageHook', switch_iter=further_iters),
    *_base_.custom_hooks[1:2],
    dict(type='ExportBackboneHook', sources=dict(sd_backbone='backbone.')),
    *_base_.custom_hooks[3:],
    dict(type='InitDistanceHook', interval=10, per_block=False),
]
