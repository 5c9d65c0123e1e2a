# CR-ILD regime, stage B: prediction-layer KD (T = 2) of the teacher into a
# stage-A student for 10 epochs (the paper's 4 are too few steps for a new
# classifier on a small set). Set model.model_name_or_path (a stage-A
# student directory) and model.teacher.
_base_ = './kd_minilm-l3_1xb16-20e_rotten-tomatoes-small.py'

max_epochs = 10
model = dict(model_name_or_path='work_dirs/crild_offline/crild_a/student')
# Restated whole: the base computed its epoch boundaries from its own
# max_epochs before this file could change it.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=True,
        begin=0,
        end=max_epochs / 10,
        convert_to_iter_based=True),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=True,
        begin=max_epochs / 10,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
