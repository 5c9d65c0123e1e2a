# Offline KDEP demo on the embedded Fashion-MNIST subset (2,000 train
# images, labels unused), CPU-sized. Teacher: the tiny 28 px ViT (patch 7,
# 128-d, 4 layers) of the demo's stage 0, an MAE pre-trained on MNIST digits
# (`make demo` writes work_dirs/demo/stage0/iter_3000.pth). Student: a
# smaller ViT (patch 7, 64-d, 2 layers), so k = 64. Both use the final-norm
# class token. The SVD basis is computed on the 2,000 train images before
# training if it is missing; the student is exported to
# {work_dir}/kdep_student.pth. See docs/kdep.md for the fine-tune and
# from-scratch comparison.
_base_ = [
    '../_base_/datasets/fashion_mnist_mae.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='KDEP',
    teacher=dict(
        type='VisionTransformer',
        arch=dict(
            embed_dims=128,
            num_layers=4,
            num_heads=4,
            feedforward_channels=256),
        img_size=28,
        patch_size=7,
        out_type='cls_token',
        final_norm=True),
    student=dict(
        type='VisionTransformer',
        arch=dict(
            embed_dims=64, num_layers=2, num_heads=4,
            feedforward_channels=128),
        img_size=28,
        patch_size=7,
        out_type='cls_token',
        final_norm=True),
    teacher_feature=dict(vit_pooling='cls_token'),
    student_feature=dict(vit_pooling='cls_token'),
    teacher_checkpoint='work_dirs/demo/stage0/iter_3000.pth',
    teacher_prefix='backbone.',
    basis_file='work_dirs/'
    'kdep_vit-tiny-p7-vit-mini-p7_1xb64-1k_fashion-mnist/svd_basis_k64.pth',
    head=dict(
        type='PTSFeatureDistillHead',
        temperature=0.1,
        power=3.0,
        loss_weight=3.0))

# The basis pass reads train_dataloader's images in order (its pipeline has
# no augmentation), 250 at a time.
svd_basis_dataloader = dict(
    batch_size=250,
    num_workers=0,
    persistent_workers=False,
    collate_fn=dict(type='default_collate'),
    dataset={{_base_.train_dataloader.dataset}})

iters = 1000
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SummarizedOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            '.pos_embed': dict(decay_mult=0.0),
            '.cls_token': dict(decay_mult=0.0)
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, end=50),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=False,
        begin=50,
        end=iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)

custom_hooks = [
    dict(type='SVDBasisHook'),
    dict(type='ExportBackboneHook', sources=dict(kdep_student='backbone.')),
]
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=iters))
