# Baseline: fine-tuning the initial MAE encoder with RecAdam, the ViT-B
# 10k variant of ../_base_/regularizers/recadam.py.
_base_ = [
    '../finetune/ft_vit-b-p16_mae-in1k_1xb32-10k_dogs.py',
    '../_base_/regularizers/recadam.py',
]

optim_wrapper = _base_.recadam_vit_b_10k
