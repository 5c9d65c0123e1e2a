# Baseline: R3F fine-tuning of RoBERTa-base, noise on the token embeddings.
_base_ = [
    '../finetune/ft_roberta-base_sd_1xb16-2k_chemprot.py',
    '../../_base_/regularizers/r3f.py',
]

model = dict(
    model_name_or_path='data/roberta-base', regularizers=[_base_.r3f_roberta])
