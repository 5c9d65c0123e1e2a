# KDEP pre-training of a ViT-S/16 from a supervised DeiT-B/16 on 10 % of
# ImageNet-1k (128 images per class), 90 epochs, batch 512 = 8 x 64. The
# paper has no ViT recipe: SGD does not train ViTs well, so this config uses
# DeiT's AdamW (lr 5e-4 per 512 images, wd 0.05, no decay on norms, biases,
# position embedding and class token, 5 warm-up epochs, cosine decay, grad
# clipping at 5). See docs/kdep.md.
_base_ = [
    '../_base_/models/kdep_vit-b-vit-s.py',
    '../_base_/datasets/imagenet-10pct_kdep.py',
    '../_base_/schedules/kdep_sgd_step-30e_90e.py',
    '../_base_/default_runtime.py',
]

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='SummarizedOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            '.pos_embed': dict(decay_mult=0.0),
            '.cls_token': dict(decay_mult=0.0)
        }))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        end=5,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=5),
]

custom_hooks = [
    dict(type='SVDBasisHook'),
    dict(type='ExportBackboneHook', sources=dict(kdep_student='backbone.')),
]

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=True, interval=10, max_keep_ckpts=3))
log_processor = dict(by_epoch=True)
