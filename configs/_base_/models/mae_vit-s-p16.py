# MAE ViT-S/16 (384-d, 12 layers, 6 heads) with the standard MAE decoder.
_base_ = './mae_vit-b-p16.py'

model = dict(
    backbone=dict(arch='deit-small'),
    neck=dict(embed_dim=384),
    init_checkpoint='checkpoints/mae_vit-small-p16.pth')
