# Further pre-training (MLM) of RoBERTa-base on the task's training texts.
# Set model_name_or_path to a local copy of roberta-base; the result is
# saved as a transformers directory in {work_dir}/fpt.
_base_ = [
    '../../_base_/models/hf_mlm.py',
    '../../_base_/datasets/acl_arc_mlm.py',
    '../../_base_/schedules/text_further_pretrain_10k.py',
    '../../_base_/text_runtime.py',
]

model = dict(model_name_or_path='data/roberta-base')
