# Baseline: fine-tuning the initial MAE encoder with RecAdam. gamma is
# the authors' 5000 scaled to lr 1e-4 (lr * gamma = 0.1, as theirs), t0 at
# 10 % of the 10k iterations.
_base_ = [
    '../finetune/ft_vit-b-p16_mae-in1k_1xb32-10k_dogs.py',
    '../_base_/regularizers/recadam.py',
]

optim_wrapper = dict(
    optimizer=dict(
        _base_.recadam_optimizer,
        anneal_k=0.01,
        anneal_t0=1000,
        pretrain_cof=1000.0),
    paramwise_cfg=dict(custom_keys=_base_.recadam_new_params))
