# CR-ILD stage B: prediction-layer distillation, soft cross-entropy at
# temperature 2 (x T^2). Set model_name_or_path (the stage-A student),
# teacher and num_classes.
model = dict(
    type='PredictionLayerDistill',
    model_name_or_path=None,
    teacher=None,
    num_classes=None,
    temperature=2.0,
    data_preprocessor=dict(max_length=128))
