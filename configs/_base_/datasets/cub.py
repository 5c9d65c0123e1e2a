# CUB-200-2011 (200 classes), MMPretrain's CUB dataset.
_base_ = './finetune_224.py'

dataset_type = 'CUB'
data_root = 'data/CUB_200_2011'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
test_dataloader = val_dataloader
