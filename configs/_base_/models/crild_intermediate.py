# CR-ILD stage A: last-layer intermediate distillation (attention KL +
# mapped hidden MSE) of a fine-tuned teacher into the bottom layers of the
# pre-trained model, on embedding-mixup inputs, with the mixup consistency
# term (weight 0.1, ramped up linearly). Set student, teacher and
# consistency.ramp_iters. ILD baselines: mixup=None (last layer) and
# layer_map='uniform' (TinyBERT-style).
model = dict(
    type='IntermediateLayerDistill',
    student=None,
    teacher=None,
    num_student_layers=6,
    objectives=('attention', 'hidden'),
    layer_map='last',
    mixup=dict(alpha=1.0),
    consistency=dict(weight=0.1, ramp_iters=1000, ema_momentum=None),
    data_preprocessor=dict(max_length=128))
