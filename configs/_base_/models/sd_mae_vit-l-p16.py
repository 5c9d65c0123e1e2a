# Self-distillation with the ViT-L/16 MAE: as sd_mae_vit-b-p16.py.
_base_ = './mae_vit-l-p16.py'

model = dict(type='SelfDistillMAE')
