# Self-distillation: the MAE student plus a frozen teacher encoder.
# The paper's head is SelfDistillHead's default (final-norm class token,
# summed squared error, loss_weight 1); change it with e.g.
# --cfg-options model.distill_head.loss_weight=2. A teacher_checkpoint
# skips stage 1.
_base_ = './mae_vit-b-p16.py'

model = dict(type='SelfDistillMAE')
