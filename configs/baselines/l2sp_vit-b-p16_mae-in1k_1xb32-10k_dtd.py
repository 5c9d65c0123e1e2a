# Baseline: fine-tuning the initial MAE encoder with L2-SP (replaces
# weight decay).
_base_ = [
    '../finetune/ft_vit-b-p16_mae-in1k_1xb32-10k_dtd.py',
    '../_base_/regularizers/l2sp.py',
]

model = dict(regularizers=[_base_.l2sp])
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
