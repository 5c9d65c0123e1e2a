# Baseline: fine-tuning the initial MAE encoder with R3F (noise on the
# patch embeddings).
_base_ = [
    '../finetune/ft_vit-b-p16_mae-in1k_1xb32-10k_chest-xray.py',
    '../_base_/regularizers/r3f.py',
]

model = dict(regularizers=[_base_.r3f])
