# MAE ViT-L/16 (1024-d, 24 layers, 16 heads) with the standard MAE decoder.
_base_ = './mae_vit-b-p16.py'

model = dict(
    backbone=dict(arch='l'),
    neck=dict(embed_dim=1024),
    init_checkpoint='checkpoints/mae_vit-large-p16_in1k.pth')
