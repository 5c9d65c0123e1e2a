# A transformers sequence classifier (the model's own head on the first
# token) with MMPretrain's loss and predictions. Set model_name_or_path and
# num_classes.
model = dict(
    type='HFSequenceClassifier',
    model_name_or_path=None,
    num_classes=None,
    head=dict(type='ClsHead', loss=dict(type='CrossEntropyLoss')),
    data_preprocessor=dict(max_length=128))
