# Offline baseline: the demo's fine-tuning of the initial model (stage 0)
# with RecAdam: lr * gamma = 0.1 as the authors' (5e-4 * 200), the pull
# fades around t0 = 250 of the 1,000 iterations.
_base_ = [
    './ft_vit-tiny-p7_1xb64-1k_fashion-mnist.py',
    '../_base_/regularizers/recadam.py',
]

model = dict(backbone_checkpoint='work_dirs/demo/stage0/iter_3000.pth')
optim_wrapper = dict(
    optimizer=dict(
        _base_.recadam_optimizer,
        anneal_k=0.05,
        anneal_t0=250,
        pretrain_cof=200.0),
    paramwise_cfg=dict(custom_keys=_base_.recadam_new_params))
