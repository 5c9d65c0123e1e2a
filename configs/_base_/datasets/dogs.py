# Stanford Dogs (120 breeds) as a CustomDataset folder layout:
# data/stanford_dogs/{train,test}/<breed>/<image>.jpg
_base_ = './finetune_224.py'

dataset_type = 'CustomDataset'
data_root = 'data/stanford_dogs'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='test'))
test_dataloader = val_dataloader
