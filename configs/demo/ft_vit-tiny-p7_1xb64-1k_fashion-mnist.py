# Demo stage 3: paper-style fine-tuning of a tiny encoder on the embedded
# Fashion-MNIST subset, one evaluation at the end. Set
# model.backbone_checkpoint to the encoder to fine-tune.
_base_ = [
    '../_base_/models/vit-tiny-p7_ft.py',
    '../_base_/datasets/fashion_mnist.py',
    '../_base_/schedules/finetune_paper_10k.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone_checkpoint='work_dirs/demo/sd/sd_backbone.pth')

iters = 1000
optim_wrapper = dict(optimizer=dict(lr=5e-4))
# Restated whole: MMEngine replaces lists, so a shorter schedule cannot
# change only the boundaries of the base's.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, end=50),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=50,
        end=iters),
]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(
    logger=dict(interval=100), checkpoint=dict(interval=iters))
