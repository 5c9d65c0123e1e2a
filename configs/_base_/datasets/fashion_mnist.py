# Labeled Fashion-MNIST (the embedded subset: 2,000 train, 1,000 test) for
# fine-tuning; the test split is evaluated once at the end.
_base_ = './idx_28px.py'

data_preprocessor = dict(num_classes=10)
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='IdxImageDataset',
        data_root='demo_data/fashion_mnist',
        split='train',
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    batch_size=250,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='IdxImageDataset',
        data_root='demo_data/fashion_mnist',
        split='test',
        pipeline={{_base_.test_pipeline}}))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
