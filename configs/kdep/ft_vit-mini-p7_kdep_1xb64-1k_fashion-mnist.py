# Transfer of the offline KDEP student: the demo's paper-style fine-tuning
# (1,000 iterations, one evaluation on the 1,000 test images) of the 64-d,
# 2-layer, patch-7 ViT on the embedded Fashion-MNIST subset. For the
# from-scratch baseline add --cfg-options model.backbone_checkpoint=None.
_base_ = ['../demo/ft_vit-tiny-p7_1xb64-1k_fashion-mnist.py']

model = dict(
    backbone_checkpoint='work_dirs/'
    'kdep_vit-tiny-p7-vit-mini-p7_1xb64-1k_fashion-mnist/kdep_student.pth',
    backbone=dict(
        arch=dict(
            embed_dims=64, num_layers=2, num_heads=4,
            feedforward_channels=128)),
    head=dict(in_channels=64))
