# Self-distillation for a transformers masked language model: MLM on the
# masked input (15 %) + squared error between the student's and the frozen
# teacher's first-token ([CLS]/<s>) final hidden state on the unmasked input
# (SelfDistillMLM's and SelfDistillHead's defaults; change the head with
# e.g. --cfg-options model.distill_head.loss_weight=2). Set
# model_name_or_path to the initial model's local directory.
model = dict(
    type='SelfDistillMLM',
    model_name_or_path=None,
    data_preprocessor=dict(max_length=128))
