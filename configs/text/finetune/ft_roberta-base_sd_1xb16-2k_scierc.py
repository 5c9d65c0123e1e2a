# Fine-tuning the self-distilled RoBERTa-base on the task; accuracy, macro-
# and micro-F1 on the test split. For the FT / FPT rows, point
# model_name_or_path at roberta-base or at {sd work_dir}/fpt.
_base_ = [
    '../../_base_/models/hf_seq_cls.py',
    '../../_base_/datasets/scierc.py',
    '../../_base_/schedules/text_finetune_2k.py',
    '../../_base_/text_runtime.py',
]

model = dict(
    model_name_or_path='work_dirs/sd_roberta-base_1xb16-2x10k_scierc/sd',
    num_classes=7)
