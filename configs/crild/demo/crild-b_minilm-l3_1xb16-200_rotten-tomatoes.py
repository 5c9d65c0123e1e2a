# Offline CR-ILD stage B: prediction-layer distillation (T = 2) of the
# fine-tuned MiniLM into the stage-A student; test on the 1,000 embedded
# test snippets.
_base_ = [
    '../../_base_/models/crild_prediction.py',
    '../../_base_/datasets/rotten_tomatoes.py',
    '../../_base_/schedules/text_finetune_200.py',
    '../../_base_/text_runtime.py',
]

model = dict(
    model_name_or_path='work_dirs/demo_crild/crild_a/student',
    teacher='work_dirs/demo_crild/teacher/classifier',
    num_classes=2,
    data_preprocessor=dict(max_length=64))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
