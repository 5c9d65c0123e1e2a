# CR-ILD stage B on a GLUE task: prediction-layer distillation (T = 2; MSE
# for regression) of the teacher into the stage-A student, 4 epochs at batch
# 16, evaluated on the dev set. Writes the student to {work_dir}/student. A
# task config adds its dataset base and sets the model's paths,
# num_classes and the batch size.
_base_ = [
    './models/crild_prediction.py',
    './schedules/crild_kd_4e.py',
    './text_runtime.py',
]

custom_hooks = [
    dict(type='SavePretrainedHook', sources=dict(student='hf_model')),
]
