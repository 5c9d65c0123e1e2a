# Baseline: MARS-style distance-constrained fine-tuning of RoBERTa-base.
_base_ = [
    '../finetune/ft_roberta-base_sd_1xb16-2k_scierc.py',
    '../../_base_/regularizers/mars.py',
]

model = dict(model_name_or_path='data/roberta-base')
# The fine-tune base's export hook is restated: MMEngine replaces lists.
custom_hooks = [
    dict(type='SavePretrainedHook', sources=dict(classifier='hf_model')),
    _base_.mars_hook_text,
]
