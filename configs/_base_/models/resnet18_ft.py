# Fine-tuning model for a ResNet-18 student: global average pooling and a
# linear head. The backbone is loaded (and checked) from
# ``backbone_checkpoint``.
model = dict(
    type='PretrainedImageClassifier',
    backbone_checkpoint=None,
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
