# CR-ILD stage A on a GLUE task: the fine-tuned BERT-base teacher's layer 12
# distilled into layer 6 of the bottom 6 layers of the pre-trained
# BERT-base, with embedding mixup and consistency (weight ramped up over the
# first 1,000 iterations), for 20 epochs. Writes the student to
# {work_dir}/student. A task config adds its dataset base, sets
# model.teacher and turns the evaluation off (stage A uses no labels).
_base_ = [
    './models/crild_intermediate.py',
    './schedules/crild_adamw_20e.py',
    './text_runtime.py',
]

model = dict(student='data/bert-base-uncased')
val_cfg = None
test_cfg = None
custom_hooks = [
    dict(type='SavePretrainedHook', sources=dict(student='student')),
]
