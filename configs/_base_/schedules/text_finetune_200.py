# The fine-tuning recipe shortened for the offline text demos: 200
# iterations (12 of warmup), AdamW 5e-5, one evaluation at the end.
_base_ = './text_finetune_2k.py'

iters = 200
optim_wrapper = dict(optimizer=dict(lr=5e-5))
# Restated whole: MMEngine replaces lists, so a shorter schedule cannot
# change only the boundaries of the base's.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=False,
        begin=0,
        end=12),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=12,
        end=iters),
]
train_cfg = dict(max_iters=iters, val_interval=iters)
