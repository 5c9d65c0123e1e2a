# Unlabeled 10 % of ImageNet-1k for KDEP pre-training, as in the paper: 128
# images per class (128,000), MMPretrain's ImageNet dataset. Layout:
#
#   data/imagenet/train/<wnid>/<image>.JPEG    the ImageNet-1k train set
#   data/imagenet/meta/train_128pc.txt         the subset, one
#       "<wnid>/<image>.JPEG <label>" line per image, 128 lines per class
#
# (the official subset script draws 128 images of each class at random; any
# fixed draw works, e.g. with a seeded shuffle of each class folder). Labels
# are read but never used. Training uses random-resized crops and flips; the
# SVD basis pass (svd_basis_dataloader) reads the same images in order with
# a deterministic centre crop, so every process count gives the same basis.
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

dataset_type = 'ImageNet'
data_root = 'data/imagenet'
subset_ann_file = 'meta/train_128pc.txt'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
basis_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        ann_file=subset_ann_file,
        pipeline=train_pipeline))

svd_basis_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=False,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        ann_file=subset_ann_file,
        pipeline=basis_pipeline))
