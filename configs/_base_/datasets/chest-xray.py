# Chest X-ray pneumonia (2 classes: NORMAL, PNEUMONIA) as a CustomDataset
# folder layout: data/chest_xray/{train,test}/{NORMAL,PNEUMONIA}/<image>.jpeg
_base_ = './finetune_224.py'

dataset_type = 'CustomDataset'
data_root = 'data/chest_xray'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='test'))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
