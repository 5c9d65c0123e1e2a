# Demo stages 1 + 2 where further pre-training overfits: 100 Fashion-MNIST
# target images (10 per class; stages 1 + 2 ignore their labels), 1,000
# iterations of further pre-training of the digit MAE (640 epochs of the
# target set: the held-out MAE loss is lowest near 250 iterations and rises
# after), then 500 iterations of self-distillation from its original
# weights towards the further-pre-trained encoder. RepresentationProbeHook
# follows both stages and warns when further pre-training overfits.
_base_ = [
    '../_base_/models/sd_mae_vit-tiny-p7.py',
    '../_base_/datasets/fashion_mnist_mae.py',
    '../_base_/schedules/self_distill_2x20k.py',
    '../_base_/default_runtime.py',
]

model = dict(init_checkpoint='work_dirs/demo/stage0/iter_3000.pth')

# The target set: the first `target_per_class` images per class of the
# embedded train split's draw with `subset_seed`.
target_per_class = 10
subset_seed = 0
train_dataloader = dict(
    dataset=dict(num_per_class=target_per_class, subset_seed=subset_seed))

further_iters = 1000
distill_iters = 500
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=0,
        end=further_iters),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=further_iters,
        end=further_iters + distill_iters),
]
train_cfg = dict(max_iters=further_iters + distill_iters)

# The probe: kNN bank and linear probe fitted on the target images with
# their labels (the labels a user in this regime has, also used to
# fine-tune), classifying 1,000 other images of the same draw that the run
# never trains on (after 100 per class: never in a target set); their MAE
# loss is the held-out loss.
probe_images = dict(
    type='IdxImageDataset',
    data_root='demo_data/fashion_mnist',
    split='train',
    subset_seed=subset_seed,
    pipeline=[dict(type='PackInputs')])
target_images = dict(num_per_class=target_per_class, **probe_images)
unseen_images = dict(num_per_class=100, skip_per_class=100, **probe_images)
custom_hooks = [
    dict(type='SelfDistillStageHook', switch_iter=further_iters),
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
]
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=further_iters, max_keep_ckpts=-1))
