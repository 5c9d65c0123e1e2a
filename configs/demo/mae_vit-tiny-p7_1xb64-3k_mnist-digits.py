# Demo stage 0: the initial model. A tiny MAE pre-trained from scratch on
# MNIST digits (source domain); `tools/run_demo.py` caches its checkpoint.
_base_ = [
    '../_base_/models/mae_vit-tiny-p7.py',
    '../_base_/datasets/mnist_digits_mae.py',
    '../_base_/schedules/further_pretrain_20k.py',
    '../_base_/default_runtime.py',
]

iters = 3000
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
# Restated whole: MMEngine replaces lists, so a shorter schedule cannot
# change only the boundaries of the base's.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, end=100),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=100,
        end=iters),
]
train_cfg = dict(max_iters=iters)
custom_hooks = []  # the training checkpoint itself is the initial model
default_hooks = dict(
    logger=dict(interval=100), checkpoint=dict(interval=iters))
