# Stage 3: paper-faithful fine-tuning of the self-distilled encoder. For the
# baselines point model.backbone_checkpoint at fpt_backbone.pth (further
# pre-training) or at the initial MAE checkpoint (plain fine-tuning).
_base_ = [
    '../_base_/models/vit-s-p16_ft.py',
    '../_base_/datasets/cub.py',
    '../_base_/schedules/finetune_paper_10k.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone_checkpoint='work_dirs/'
    'sd_vit-s-p16_mae-in1k_1xb64-2x20k_cub/sd_backbone.pth',
    head=dict(num_classes=200))
