# A tiny MAE (32 px, patch 8, 64-d, 2 layers) for CPU tests. Data roots and
# checkpoints are set by the tests.
model = dict(
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
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='',
        data_prefix='train',
        pipeline=mae_pipeline))

default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=-1))
