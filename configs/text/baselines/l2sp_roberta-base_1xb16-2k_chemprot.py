# Baseline: L2-SP fine-tuning of RoBERTa-base (no further pre-training).
_base_ = [
    '../finetune/ft_roberta-base_sd_1xb16-2k_chemprot.py',
    '../../_base_/regularizers/l2sp.py',
]

model = dict(
    model_name_or_path='data/roberta-base', regularizers=[_base_.l2sp_text])
