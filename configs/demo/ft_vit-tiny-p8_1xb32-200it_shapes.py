# Demo stage 3: fine-tune and test the self-distilled tiny encoder on the
# labeled shapes.
_base_ = [
    '../_base_/models/vit-b-p16_ft.py',
    '../_base_/datasets/finetune_224.py',
    '../_base_/schedules/finetune_paper_10k.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone_checkpoint='work_dirs/demo/sd/sd_backbone.pth',
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=64,
            num_layers=2,
            num_heads=4,
            feedforward_channels=128),
        img_size=32,
        patch_size=8),
    head=dict(num_classes=2, in_channels=64, topk=(1, )))
data_preprocessor = dict(num_classes=2)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type='CustomDataset',
        data_root='data/demo_shapes',
        data_prefix='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type='CustomDataset',
        data_root='data/demo_shapes',
        data_prefix='test',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=False,
        begin=0,
        end=20),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=20,
        end=200),
]
train_cfg = dict(max_iters=200, val_interval=200)
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=200))
