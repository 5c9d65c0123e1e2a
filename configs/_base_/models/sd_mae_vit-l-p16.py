# Self-distillation: the MAE student plus a frozen teacher encoder.
_base_ = './mae_vit-l-p16.py'

model = dict(
    type='SelfDistillMAE',
    teacher_checkpoint=None,
    distill_head=dict(
        type='SelfDistillHead',
        representation='cls_token',
        criterion='sse',
        loss_weight=1.0))
