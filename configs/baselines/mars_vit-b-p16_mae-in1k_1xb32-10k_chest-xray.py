# Baseline: fine-tuning the initial MAE encoder with MARS-PGM projection.
_base_ = [
    '../finetune/ft_vit-b-p16_mae-in1k_1xb32-10k_chest-xray.py',
    '../_base_/regularizers/mars.py',
]

custom_hooks = [_base_.mars_hook]
