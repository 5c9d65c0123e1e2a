# Stage 1: MAE further pre-training of ViT-S/16 on CUB-200-2011.
_base_ = [
    '../_base_/models/mae_vit-s-p16.py',
    '../_base_/datasets/cub_mae.py',
    '../_base_/schedules/further_pretrain_20k.py',
    '../_base_/default_runtime.py',
]
