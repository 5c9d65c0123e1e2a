# Paper-faithful fine-tuning model: ViT-B/16, final-norm class token,
# dropout 0.1 and a linear head. The backbone is loaded (and checked) from
# ``backbone_checkpoint``.
model = dict(
    type='PretrainedImageClassifier',
    backbone_checkpoint=None,
    backbone=dict(
        type='VisionTransformer',
        arch='base',
        img_size=224,
        patch_size=16,
        out_type='cls_token',
        final_norm=True),
    neck=None,
    head=dict(
        type='DropoutLinearClsHead',
        num_classes=1000,
        in_channels=768,
        dropout_rate=0.1,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
