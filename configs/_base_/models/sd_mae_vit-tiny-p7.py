# Self-distillation with the tiny 28 px MAE: student plus frozen teacher.
_base_ = './mae_vit-tiny-p7.py'

model = dict(
    type='SelfDistillMAE',
    teacher_checkpoint=None,
    distill_head=dict(
        type='SelfDistillHead',
        representation='cls_token',
        criterion='sse',
        loss_weight=1.0))
