# Demo stages 1 + 2: further pre-training then self-distillation of the tiny
# MAE from stage 0 (run it first: see README.md, `make demo`).
_base_ = './mae_vit-tiny-p8_1xb32-300it_shapes.py'

further_iters = 100

model = dict(
    type='SelfDistillMAE',
    init_checkpoint='work_dirs/demo/stage0/iter_300.pth',
    teacher_checkpoint=None,
    distill_head=dict(type='SelfDistillHead'))

optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=0,
        end=further_iters),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=further_iters,
        end=2 * further_iters),
]
train_cfg = dict(max_iters=2 * further_iters)
custom_hooks = [
    dict(type='SelfDistillStageHook', switch_iter=further_iters),
    dict(
        type='ExportBackboneHook',
        sources=dict(sd_backbone='backbone.', fpt_backbone='teacher.')),
]
default_hooks = dict(checkpoint=dict(interval=100))
