# Fine-tuning model for the tiny 28 px ViT (see mae_vit-tiny-p7.py).
_base_ = './vit-b-p16_ft.py'

model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=128,
            num_layers=4,
            num_heads=4,
            feedforward_channels=256),
        img_size=28,
        patch_size=7),
    head=dict(num_classes=10, in_channels=128, topk=(1, )))
