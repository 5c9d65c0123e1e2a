# Further pre-training of a transformers MLM on the task's text (recipe by
# analogy with DAPT/TAPT; the paper's code is vision-only): AdamW 1e-4,
# betas (0.9, 0.98), eps 1e-6, wd 0.01 (none on biases and LayerNorms),
# 6 % linear warmup then linear decay to 0, grad clipping at 1.0.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SummarizedOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01),
    clip_grad=dict(max_norm=1.0),
    # bypass_duplicate: MLM heads share their weight with the embeddings.
    paramwise_cfg=dict(
        bias_decay_mult=0.0, norm_decay_mult=0.0, bypass_duplicate=True))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=False,
        begin=0,
        end=600),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=600,
        end=10000),
]

train_cfg = dict(type='IterBasedTrainLoop', max_iters=10000)
val_cfg = None
test_cfg = None

custom_hooks = [
    dict(type='SavePretrainedHook', sources=dict(fpt='hf_model')),
    # ‖θ − θ_init‖ of the encoder, in total and per layer.
    dict(type='InitDistanceHook', interval=100),
]
