# The two-stage run of benchmarks/reproduce_sd.py: the demo's further
# pre-training then self-distillation on a small Fashion-MNIST target set,
# probed twice. `probe/*`, as in the demo, fits the kNN bank and the linear
# probe on the target images with their labels (the labels a user in this
# regime has); `probe_unseen/*` fits them on 500 other labelled images the
# run never trains on. Both classify the same 1,000 unseen images. The
# script sets the target size, seeds and iterations. (MMEngine replaces
# lists, so the demo's hooks are restated.)
_base_ = '../../configs/demo/sd_vit-tiny-p7_1xb64-1k-500_fashion-mnist-100.py'

probe_images = dict(
    type='IdxImageDataset',
    data_root='demo_data/fashion_mnist',
    split='train',
    subset_seed=0,
    pipeline=[dict(type='PackInputs')])
target_images = dict(num_per_class=10, **probe_images)
unseen_bank = dict(num_per_class=50, skip_per_class=50, **probe_images)
unseen_images = dict(num_per_class=100, skip_per_class=100, **probe_images)
custom_hooks = [
    dict(type='SelfDistillStageHook', switch_iter={{_base_.further_iters}}),
    dict(type='TeacherCacheHook'),
    dict(
        type='ExportBackboneHook',
        sources=dict(sd_backbone='backbone.', fpt_backbone='teacher.')),
    dict(
        type='RepresentationProbeHook',
        interval=100,
        bank_dataloader=dict(batch_size=500, dataset=target_images),
        query_dataloader=dict(batch_size=500, dataset=unseen_images),
        heldout_dataloader=dict(batch_size=500, dataset=unseen_images),
        train_eval_dataloader=dict(batch_size=500, dataset=target_images),
        linear_probe=True),
    dict(
        type='RepresentationProbeHook',
        prefix='probe_unseen',
        interval=100,
        bank_dataloader=dict(batch_size=500, dataset=unseen_bank),
        query_dataloader=dict(batch_size=500, dataset=unseen_images),
        linear_probe=True,
        warn_overfitting=False),
]
