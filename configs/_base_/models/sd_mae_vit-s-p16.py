# Self-distillation with the ViT-S/16 MAE: as sd_mae_vit-b-p16.py.
_base_ = './mae_vit-s-p16.py'

model = dict(type='SelfDistillMAE')
