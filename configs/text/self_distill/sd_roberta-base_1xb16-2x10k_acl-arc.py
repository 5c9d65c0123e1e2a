# Further pre-training then self-distillation of RoBERTa-base on the task's
# training texts. Writes the teacher ({work_dir}/fpt) and the student
# ({work_dir}/sd) as transformers directories.
_base_ = [
    '../../_base_/models/hf_sd_mlm.py',
    '../../_base_/datasets/acl_arc_mlm.py',
    '../../_base_/schedules/text_self_distill_2x10k.py',
    '../../_base_/text_runtime.py',
]

model = dict(model_name_or_path='data/roberta-base')
