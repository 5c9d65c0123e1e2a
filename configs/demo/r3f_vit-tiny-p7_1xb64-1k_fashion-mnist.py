# Offline baseline: the demo's fine-tuning of the initial model (stage 0)
# with R3F. The patch embeddings have a std of about 0.7 here, so sigma is
# 0.1 (the paper's 1e-5 changes the predictions by a KL of ~1e-9).
_base_ = [
    './ft_vit-tiny-p7_1xb64-1k_fashion-mnist.py',
    '../_base_/regularizers/r3f.py',
]

model = dict(
    backbone_checkpoint='work_dirs/demo/stage0/iter_3000.pth',
    regularizers=[dict(_base_.r3f, sigma=0.1)])
