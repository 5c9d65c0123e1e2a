# Baseline: last-layer ILD without mixup or consistency (CR-ILD's ablation).
_base_ = './crild-a_bert-base-l6_1xb32-20e_glue-rte.py'

model = dict(mixup=None)
