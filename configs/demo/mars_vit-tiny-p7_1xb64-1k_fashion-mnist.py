# Offline baseline: the demo's fine-tuning of the initial model (stage 0)
# with MARS-PGM. Plain fine-tuning moves the layers by 1.4 to 7.4 in the
# max-abs-row-sum norm; radius 1.0 holds every layer below that.
_base_ = [
    './ft_vit-tiny-p7_1xb64-1k_fashion-mnist.py',
    '../_base_/regularizers/mars.py',
]

model = dict(backbone_checkpoint='work_dirs/demo/stage0/iter_3000.pth')
custom_hooks = [dict(_base_.mars_hook, radius=1.0)]
