# Stage 1 (further pre-training) then stage 2 (self-distillation) in one
# run, the same recipe in each stage; SelfDistillStageHook restarts the
# student and the optimizer at 10k. Exports the teacher (fpt/) and the
# student (sd/) as transformers directories.
_base_ = './text_further_pretrain_10k.py'

further_iters = 10000
warmup_iters = 600

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=warmup_iters,
        end=further_iters),
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=False,
        begin=further_iters,
        end=further_iters + warmup_iters),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=further_iters + warmup_iters,
        end=2 * further_iters),
]

train_cfg = dict(max_iters=2 * further_iters)

custom_hooks = [
    dict(type='SelfDistillStageHook', switch_iter=further_iters),
    dict(
        type='SavePretrainedHook', sources=dict(sd='hf_model', fpt='further_pretrained_mlm')),
    # ‖θ − θ_init‖ of the student's encoder in every stage.
    dict(type='InitDistanceHook', interval=100),
]
