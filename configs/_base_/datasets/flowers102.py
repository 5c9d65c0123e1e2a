# Oxford Flowers-102 (102 classes), MMPretrain's Flowers102 dataset.
_base_ = './finetune_224.py'

dataset_type = 'Flowers102'
data_root = 'data/flowers102'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='trainval'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
test_dataloader = val_dataloader
