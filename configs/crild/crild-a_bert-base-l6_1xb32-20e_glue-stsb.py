# CR-ILD stage A on GLUE STS-B: the fine-tuned BERT-base teacher's layer 12
# distilled into layer 6 of the bottom 6 layers of the pre-trained
# BERT-base, with embedding mixup and consistency (weight ramped up over
# the first 1,000 iterations). Writes the student to {work_dir}/student.
_base_ = [
    '../_base_/models/crild_intermediate.py',
    '../_base_/datasets/glue_stsb.py',
    '../_base_/schedules/crild_adamw_20e.py',
    '../_base_/text_runtime.py',
]

model = dict(
    student='data/bert-base-uncased',
    teacher='work_dirs/ft_bert-base_1xb32-3e_glue-stsb/classifier')
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
custom_hooks = [
    dict(type='SavePretrainedHook', sources=dict(student='student')),
]
