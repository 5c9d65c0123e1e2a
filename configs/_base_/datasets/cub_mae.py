# CUB-200-2011 (200 classes), MMPretrain's CUB dataset.
# Unlabeled train images for further pre-training.
_base_ = './mae_224.py'

train_dataloader = dict(
    dataset=dict(type='CUB', data_root='data/CUB_200_2011', split='train'))
