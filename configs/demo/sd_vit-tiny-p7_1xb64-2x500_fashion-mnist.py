# Demo stages 1 + 2 on the embedded Fashion-MNIST subset: further
# pre-training of the digit MAE, then self-distillation from its original
# weights towards the further-pre-trained encoder.
_base_ = [
    '../_base_/models/sd_mae_vit-tiny-p7.py',
    '../_base_/datasets/fashion_mnist_mae.py',
    '../_base_/schedules/self_distill_2x20k.py',
    '../_base_/default_runtime.py',
]

model = dict(init_checkpoint='work_dirs/demo/stage0/iter_3000.pth')

further_iters = 500
optim_wrapper = dict(optimizer=dict(lr=5e-4))
# The two stages' schedules and the stage hook are restated whole: the
# base computed them from its own further_iters, and MMEngine replaces
# lists.
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
    dict(type='TeacherCacheHook'),
    dict(
        type='ExportBackboneHook',
        sources=dict(sd_backbone='backbone.', fpt_backbone='teacher.')),
]
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=2 * further_iters))
