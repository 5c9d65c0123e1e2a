# CR-ILD regime, baseline: last-layer ILD, without mixup or consistency.
_base_ = './crild-a_minilm-l6-l3_1xb32-40e_rotten-tomatoes-small.py'

model = dict(mixup=None)
