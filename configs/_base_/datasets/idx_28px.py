# 28 px grayscale idx images (MNIST layout) read by IdxImageDataset; no
# augmentation for pre-training, horizontal flip for fine-tuning. Leaf
# datasets set data_root (and classes).
data_preprocessor = dict(
    mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5], to_rgb=False)

pretrain_pipeline = [dict(type='PackInputs')]
train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

dataset_type = 'IdxImageDataset'
