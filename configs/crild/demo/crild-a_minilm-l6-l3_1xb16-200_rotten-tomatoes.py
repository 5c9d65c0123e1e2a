# Offline CR-ILD stage A: the MiniLM fine-tuned on the embedded Rotten
# Tomatoes snippets (the text demo's fine-tune config, run by
# benchmarks/crild_offline.py) distilled into the bottom 3 layers of the
# pre-trained MiniLM, on the training texts (labels unused).
_base_ = [
    '../../_base_/models/crild_intermediate.py',
    '../../_base_/datasets/rotten_tomatoes_mlm.py',
    '../../_base_/schedules/text_finetune_200.py',
    '../../_base_/text_runtime.py',
]

model = dict(
    student='data/all-MiniLM-L6-v2',
    teacher='work_dirs/demo_crild/teacher/classifier',
    num_student_layers=3,
    consistency=dict(ramp_iters=50),
    data_preprocessor=dict(max_length=64))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
val_cfg = None
test_cfg = None
custom_hooks = [
    dict(type='SavePretrainedHook', sources=dict(student='student')),
]
