# Offline baseline: the demo's fine-tuning of the initial model (stage 0)
# with L2-SP at the paper's alpha = 0.1, beta = 0.01 (no weight decay).
_base_ = [
    './ft_vit-tiny-p7_1xb64-1k_fashion-mnist.py',
    '../_base_/regularizers/l2sp.py',
]

model = dict(
    backbone_checkpoint='work_dirs/demo/stage0/iter_3000.pth',
    regularizers=[_base_.l2sp])
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
