# Demo stage 0: a tiny MAE (32 px, patch 8, 64-d, 2 layers) pre-trained from
# scratch on generated shapes; its checkpoint is the demo's initial model.
_base_ = [
    '../_base_/models/mae_vit-b-p16.py',
    '../_base_/datasets/mae_224.py',
    '../_base_/schedules/further_pretrain_20k.py',
    '../_base_/default_runtime.py',
]

model = dict(
    init_checkpoint=None,
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=64,
            num_layers=2,
            num_heads=4,
            feedforward_channels=128),
        img_size=32,
        patch_size=8),
    neck=dict(
        num_patches=16,
        patch_size=8,
        embed_dim=64,
        decoder_embed_dim=32,
        decoder_depth=1,
        decoder_num_heads=4),
    head=dict(patch_size=8))

mae_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='data/demo_shapes',
        data_prefix='train',
        pipeline=mae_pipeline))

optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=0,
        end=300)
]
train_cfg = dict(max_iters=300)
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(interval=300))
