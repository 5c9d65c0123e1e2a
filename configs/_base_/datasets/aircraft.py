# FGVC-Aircraft (100 variants), MMPretrain's FGVCAircraft dataset.
_base_ = './finetune_224.py'

dataset_type = 'FGVCAircraft'
data_root = 'data/fgvc-aircraft-2013b/data'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='trainval'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
test_dataloader = val_dataloader
