# Stage 1: MAE further pre-training of ViT-L/16 on CUB-200-2011.
_base_ = [
    '../_base_/models/mae_vit-l-p16.py',
    '../_base_/datasets/cub_mae.py',
    '../_base_/schedules/further_pretrain_20k.py',
    '../_base_/default_runtime.py',
]
