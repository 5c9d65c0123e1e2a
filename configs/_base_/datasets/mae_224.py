# Unlabeled target images for MAE further pre-training / self-distillation,
# as in the official recipe: plain 224x224 bilinear resize, ImageNet
# mean/std, no augmentation, batch 64. Leaf datasets set ``dataset``.
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

mae_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Resize',
        scale=(224, 224),
        keep_ratio=False,
        interpolation='bilinear'),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(pipeline=mae_pipeline))
