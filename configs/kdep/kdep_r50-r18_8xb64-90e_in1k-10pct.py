# KDEP pre-training of a ResNet-18 from a supervised ResNet-50 on 10 % of
# ImageNet-1k (128 images per class), the paper's recipe: SGD lr 0.3, wd
# 5e-4, step decay every 30 epochs, 90 epochs, batch 512 = 8 x 64. The SVD
# basis is computed before training if model.basis_file is missing (or run
# tools/compute_svd_basis.py first); the student is exported to
# {work_dir}/kdep_student.pth for transfer. See docs/kdep.md.
_base_ = [
    '../_base_/models/kdep_r50-r18.py',
    '../_base_/datasets/imagenet-10pct_kdep.py',
    '../_base_/schedules/kdep_sgd_step-30e_90e.py',
    '../_base_/default_runtime.py',
]

custom_hooks = [
    dict(type='SVDBasisHook'),
    dict(type='ExportBackboneHook', sources=dict(kdep_student='backbone.')),
]

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=True, interval=10, max_keep_ckpts=3))
log_processor = dict(by_epoch=True)
