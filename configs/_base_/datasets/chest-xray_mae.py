# Chest X-ray pneumonia (2 classes: NORMAL, PNEUMONIA) as a CustomDataset
# folder layout: data/chest_xray/{train,test}/{NORMAL,PNEUMONIA}/<image>.jpeg
# Unlabeled train images for further pre-training.
_base_ = './mae_224.py'

train_dataloader = dict(
    dataset=dict(
        type='CustomDataset', data_root='data/chest_xray',
        data_prefix='train'))
