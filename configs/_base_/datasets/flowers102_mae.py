# Oxford Flowers-102 (102 classes), MMPretrain's Flowers102 dataset.
# Unlabeled train images for further pre-training.
_base_ = './mae_224.py'

train_dataloader = dict(
    dataset=dict(
        type='Flowers102', data_root='data/flowers102', split='trainval'))
