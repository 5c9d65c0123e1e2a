# Stage 1: MAE further pre-training of ViT-B/16 on Stanford Dogs.
_base_ = [
    '../_base_/models/mae_vit-b-p16.py',
    '../_base_/datasets/dogs_mae.py',
    '../_base_/schedules/further_pretrain_20k.py',
    '../_base_/default_runtime.py',
]
