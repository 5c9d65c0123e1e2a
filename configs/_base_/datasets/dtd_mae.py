# DTD (47 textures), MMPretrain's DTD dataset.
# Unlabeled train images for further pre-training.
_base_ = './mae_224.py'

train_dataloader = dict(
    dataset=dict(type='DTD', data_root='data/dtd', split='trainval'))
