# Paper-faithful fine-tuning: AdamW 1e-4, wd 0.01 (none on biases, pos-embed
# and cls token), 500-iteration linear warmup then linear decay to 0, grad
# clipping at 1.0, 10k iterations, one evaluation at the end.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SummarizedOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.01),
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(
        bias_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0)
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=False,
        begin=0,
        end=500),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=500,
        end=10000),
]

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=10000, val_interval=10000)
val_cfg = dict()
test_cfg = dict()
