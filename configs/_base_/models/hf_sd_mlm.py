# Self-distillation for a transformers masked language model: MLM on the
# masked input + squared error between the student's and the frozen
# teacher's first-token ([CLS]/<s>) final hidden state on the unmasked input.
# Set model_name_or_path to the initial model's local directory.
model = dict(
    type='SelfDistillMLM',
    model_name_or_path=None,
    mlm_probability=0.15,
    hidden_layer=-1,
    distill_head=dict(
        type='SelfDistillHead',
        representation='cls_token',
        criterion='sse',
        loss_weight=1.0),
    data_preprocessor=dict(max_length=128))
