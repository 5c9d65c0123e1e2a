# The CR-ILD recipe for GLUE-size tasks, by epochs: AdamW lr 3e-5, wd 0.01
# (none on biases and LayerNorms), 10 % linear warmup then linear decay to
# 0, grad clipping at 1.0, 20 epochs, evaluation at the end. Stage B
# configs set 4 epochs.
max_epochs = 20
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SummarizedOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=3e-5, weight_decay=0.01),
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(
        bias_decay_mult=0.0, norm_decay_mult=0.0, bypass_duplicate=True))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=True,
        begin=0,
        end=max_epochs / 10,
        convert_to_iter_based=True),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=True,
        begin=max_epochs / 10,
        end=max_epochs,
        convert_to_iter_based=True),
]

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
