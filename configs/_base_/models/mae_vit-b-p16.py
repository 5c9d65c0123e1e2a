# MAE ViT-B/16 encoder + decoder that further pre-trains from an initial
# MMPretrain MAE checkpoint (encoder ``backbone.*`` and decoder ``neck.*``).
_base_ = 'mmpretrain::_base_/models/mae_vit-base-p16.py'

model = dict(
    type='FurtherPretrainMAE',
    init_checkpoint='checkpoints/mae_vit-base-p16_in1k.pth')
