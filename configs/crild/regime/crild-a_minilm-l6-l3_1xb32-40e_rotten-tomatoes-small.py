# CR-ILD regime, stage A: the teacher's last layer distilled into layer 3
# of the bottom 3 layers of the pre-trained MiniLM on the small set's texts
# (labels unused), with embedding mixup and the consistency term (weight
# 0.1 ramped up over the whole run, as the paper's epoch / epochs), for 40
# epochs: twice the paper's 20, to let the student memorise the set.
# Validation logs the clean distillation losses on held-out and training
# texts; the student is written after epochs 20 and 40 ({work_dir}/
# student_epoch_20, student). Set model.teacher.
_base_ = [
    '../../_base_/models/crild_intermediate.py',
    '../../_base_/crild_regime.py',
]

max_epochs = 40
model = dict(
    student='data/all-MiniLM-L6-v2',
    teacher='work_dirs/crild_offline/teacher/classifier',
    num_student_layers=3,
    consistency=dict(ramp_iters='all'),
    data_preprocessor=dict(max_length=64))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
train_dataloader = dict(batch_size=32, dataset=dict(label_key=None))
val_evaluator = []  # no metrics: the model reports its losses
test_dataloader = None
test_evaluator = None
test_cfg = None
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
train_cfg = dict(max_epochs=max_epochs, val_interval=4)
custom_hooks = [
    dict(
        type='SavePretrainedHook',
        sources=dict(student='student'),
        epochs=(20, )),
]
