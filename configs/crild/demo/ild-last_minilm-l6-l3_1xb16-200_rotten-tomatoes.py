# Offline baseline: last-layer ILD without mixup or consistency.
_base_ = './crild-a_minilm-l6-l3_1xb16-200_rotten-tomatoes.py'

model = dict(mixup=None)
