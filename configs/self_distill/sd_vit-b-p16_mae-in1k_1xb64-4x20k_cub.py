# Three rounds of self-distillation in one run: further pre-training
# [0, 20k), then rounds 1, 2, 3 of 20k iterations each. The student of round
# k is the frozen teacher of round k + 1, and every round restarts the
# student from the initial model with its own LR schedule. The encoder of
# every round is exported: round0_backbone.pth (further pre-trained) to
# round3_backbone.pth (= sd_backbone.pth).
_base_ = './sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py'

stage_iters = 20000
rounds = 3
# Restated whole: MMEngine replaces lists.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=k * stage_iters,
        end=(k + 1) * stage_iters) for k in range(rounds + 1)
]
train_cfg = dict(max_iters=(rounds + 1) * stage_iters)
custom_hooks = [
    dict(type='SelfDistillStageHook', switch_iter=stage_iters, rounds=rounds),
    dict(type='TeacherCacheHook'),
    dict(
        type='ExportBackboneHook',
        sources=dict(sd_backbone='backbone.'),
        each_round='round{round}_backbone'),
    dict(type='InitDistanceHook', interval=200),
]
