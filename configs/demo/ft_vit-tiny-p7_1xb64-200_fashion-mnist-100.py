# Demo stage 3 in the small-data regime: fine-tune on the same 100 labelled
# Fashion-MNIST images that stages 1 + 2 used unlabelled (10 per class,
# drawn with `subset_seed`), 200 iterations, one test at the end on the
# 1,000 embedded test images. Set model.backbone_checkpoint to the encoder.
_base_ = './ft_vit-tiny-p7_1xb64-1k_fashion-mnist.py'

train_dataloader = dict(dataset=dict(num_per_class=10, subset_seed=0))

iters = 200
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
    logger=dict(interval=50), checkpoint=dict(interval=iters))
