# Alternative stage 3: MMPretrain's own MAE fine-tuning recipe (average-pooled
# tokens, layer-wise LR decay 0.65, RandAugment, Mixup/CutMix, 100 epochs)
# applied to the self-distilled encoder on CUB. Not the paper's recipe; see
# ./ft_vit-b-p16_sd_1xb32-10k_cub.py for that.
_base_ = 'mmpretrain::mae/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py'

custom_imports = dict(imports=['mmsd'], allow_failed_imports=False)

data_root = 'data/CUB_200_2011'
data_preprocessor = dict(num_classes=200)

model = dict(
    type='PretrainedImageClassifier',
    backbone_checkpoint='work_dirs/'
    'sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub/sd_backbone.pth',
    # This backbone averages patch tokens with a new norm (ln2) instead of
    # the pre-trained final norm (ln1).
    ignore_keys=['ln1.*', 'ln2.*'],
    backbone=dict(init_cfg=None),
    head=dict(num_classes=200))

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CUB',
        data_root=data_root,
        split='train',
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CUB',
        data_root=data_root,
        split='test',
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
