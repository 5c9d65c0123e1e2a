# CR-ILD stage B on GLUE RTE: prediction-layer distillation (T = 2) of the
# teacher into the stage-A student; evaluated on the dev set.
_base_ = [
    '../_base_/models/crild_prediction.py',
    '../_base_/datasets/glue_rte.py',
    '../_base_/schedules/crild_kd_4e.py',
    '../_base_/text_runtime.py',
]

model = dict(
    model_name_or_path='work_dirs/crild-a_bert-base-l6_1xb32-20e_glue-rte/'
    'student',
    teacher='work_dirs/ft_bert-base_1xb32-3e_glue-rte/classifier',
    num_classes=2)
train_dataloader = dict(batch_size=16)
custom_hooks = [
    dict(type='SavePretrainedHook', sources=dict(student='hf_model')),
]
