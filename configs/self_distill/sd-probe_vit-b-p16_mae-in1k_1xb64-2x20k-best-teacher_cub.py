# As sd-probe_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py, but the teacher is the
# encoder of the further pre-training step where the probe's held-out MAE
# loss (no labels) was lowest, not the last step's (beyond the paper). The
# probe runs every 2,000 iterations, so the choice is among those steps.
# Its held-out images are CUB's test images (unlabelled use); to choose a
# teacher for a reported test result, point heldout_dataloader at images
# outside the test set.
_base_ = './sd-probe_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py'

custom_hooks = [
    dict(
        type='SelfDistillStageHook',
        switch_iter=20000,
        teacher='probe_best',
        probe_metric='mae_heldout'),
    *_base_.custom_hooks[1:],
]
