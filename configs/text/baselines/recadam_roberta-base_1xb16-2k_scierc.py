# Baseline: RecAdam fine-tuning of RoBERTa-base; the new classifier head is
# plain AdamW.
_base_ = [
    '../finetune/ft_roberta-base_sd_1xb16-2k_scierc.py',
    '../../_base_/regularizers/recadam.py',
]

model = dict(model_name_or_path='data/roberta-base')
optim_wrapper = _base_.recadam_text
