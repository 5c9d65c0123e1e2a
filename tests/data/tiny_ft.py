# A tiny ViT classifier (32 px, patch 8, 64-d, 2 layers, 2 classes) for CPU
# tests of the fine-tune configs. Data roots and checkpoints are set by the
# tests.
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
    head=dict(num_classes=2, in_channels=64, topk=(1, )))
data_preprocessor = dict(num_classes=2)

ft_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='PackInputs'),
]
ft_dataset = dict(
    _delete_=True,
    type='CustomDataset',
    data_root='',
    data_prefix='train',
    pipeline=ft_pipeline)
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False, dataset=ft_dataset)
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False, dataset=ft_dataset)
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=-1))
