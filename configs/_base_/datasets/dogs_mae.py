# Stanford Dogs (120 breeds) as a CustomDataset folder layout:
# data/stanford_dogs/{train,test}/<breed>/<image>.jpg
# Unlabeled train images for further pre-training.
_base_ = './mae_224.py'

train_dataloader = dict(
    dataset=dict(
        type='CustomDataset',
        data_root='data/stanford_dogs',
        data_prefix='train'))
