# CR-ILD regime, prediction-layer KD only: the bottom 3 layers of the
# pre-trained MiniLM trained on the teacher's predictions (T = 2), no
# intermediate-layer distillation. Set model.teacher.
_base_ = [
    '../../_base_/models/crild_prediction.py',
    '../../_base_/crild_regime.py',
]

model = dict(
    model_name_or_path='data/all-MiniLM-L6-v2',
    model_kwargs=dict(num_hidden_layers=3),
    teacher='work_dirs/crild_offline/teacher/classifier',
    num_classes=2,
    data_preprocessor=dict(max_length=64))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
