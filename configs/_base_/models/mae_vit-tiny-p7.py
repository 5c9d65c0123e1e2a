# A tiny MAE for 28 px images on a laptop CPU: patch 7 (16 patches), 128-d,
# 4 layers, decoder 64-d x 2.
_base_ = './mae_vit-b-p16.py'

model = dict(
    init_checkpoint=None,
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=128,
            num_layers=4,
            num_heads=4,
            feedforward_channels=256),
        img_size=28,
        patch_size=7),
    neck=dict(
        num_patches=16,
        patch_size=7,
        embed_dim=128,
        decoder_embed_dim=64,
        decoder_depth=2,
        decoder_num_heads=4),
    head=dict(patch_size=7))
