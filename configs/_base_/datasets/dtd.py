# DTD (47 textures), MMPretrain's DTD dataset.
_base_ = './finetune_224.py'

dataset_type = 'DTD'
data_root = 'data/dtd'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='trainval'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
test_dataloader = val_dataloader
