# Stages 1 + 2 on CUB, as sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py, with
# RepresentationProbeHook: every 2,000 iterations, the kNN top-1 of the
# test images against the labelled train images (frozen class tokens) and
# the MAE loss on the test images, which training never sees. It warns if
# further pre-training starts to overfit. The probe is a monitor: for
# choosing a model by it, probe a validation split instead of the test set.
_base_ = './sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py'

cub_train = dict(
    type='CUB',
    data_root='data/CUB_200_2011',
    split='train',
    pipeline={{_base_.mae_pipeline}})
cub_test = dict(
    type='CUB',
    data_root='data/CUB_200_2011',
    split='test',
    pipeline={{_base_.mae_pipeline}})
custom_hooks = [
    dict(type='SelfDistillStageHook', switch_iter=20000),
    dict(type='TeacherCacheHook'),
    dict(
        type='ExportBackboneHook',
        sources=dict(sd_backbone='backbone.', fpt_backbone='teacher.')),
    dict(
        type='RepresentationProbeHook',
        interval=2000,
        bank_dataloader=dict(batch_size=64, num_workers=8, dataset=cub_train),
        query_dataloader=dict(batch_size=64, num_workers=8, dataset=cub_test),
        heldout_dataloader=dict(
            batch_size=64, num_workers=8, dataset=cub_test)),
]
