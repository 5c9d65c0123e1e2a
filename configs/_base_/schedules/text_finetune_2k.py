# Fine-tuning a transformers sequence classifier: AdamW 2e-5, wd 0.01 (none
# on biases and LayerNorms), 6 % linear warmup then linear decay to 0, grad
# clipping at 1.0, one evaluation at the end. Exports the classifier as a
# transformers directory (classifier/).
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SummarizedOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=2e-5, weight_decay=0.01),
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
        end=120),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=120,
        end=2000),
]

train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=2000)
val_cfg = dict()
test_cfg = dict()

custom_hooks = [
    dict(type='SavePretrainedHook', sources=dict(classifier='hf_model')),
]
