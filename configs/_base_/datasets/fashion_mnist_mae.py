# Unlabeled Fashion-MNIST train images (the embedded subset) for further
# pre-training and self-distillation.
_base_ = './idx_28px.py'

data_preprocessor = dict(type='SelfSupDataPreprocessor')
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
        pipeline={{_base_.pretrain_pipeline}}))
