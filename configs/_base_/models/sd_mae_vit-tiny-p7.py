# Self-distillation with the tiny 28 px MAE: as sd_mae_vit-b-p16.py.
_base_ = './mae_vit-tiny-p7.py'

model = dict(type='SelfDistillMAE')
