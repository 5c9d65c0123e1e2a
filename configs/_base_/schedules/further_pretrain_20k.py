# Official stage-1 recipe: AdamW 1.5e-4 (absolute), betas (0.9, 0.95),
# wd 0.01 without decay on norms and biases, linear decay to 0, no warmup,
# no clipping, fp32, 20k iterations.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SummarizedOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=1.5e-4, betas=(0.9, 0.95), weight_decay=0.01),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=0,
        end=20000)
]

train_cfg = dict(type='IterBasedTrainLoop', max_iters=20000)

custom_hooks = [
    dict(type='ExportBackboneHook', sources=dict(fpt_backbone='backbone.')),
    # ‖θ − θ_init‖ of the encoder, in total and per block.
    dict(type='InitDistanceHook', interval=200),
]
