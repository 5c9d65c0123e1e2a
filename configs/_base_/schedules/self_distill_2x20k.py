# Stage 1 (further pre-training) then stage 2 (self-distillation) in one
# run, each with the official recipe: the LR decays linearly to 0 within each
# stage, and SelfDistillStageHook restarts student and optimizer at 20k.
_base_ = './further_pretrain_20k.py'

further_iters = 20000

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
    # ‖θ − θ_init‖ of the student's encoder in every stage.
    dict(type='InitDistanceHook', interval=200),
]
