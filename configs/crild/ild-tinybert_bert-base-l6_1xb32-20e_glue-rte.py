# Baseline: TinyBERT-style layer-to-layer ILD (student layer i to teacher
# layer 2i, embeddings to embeddings), without mixup or consistency.
_base_ = './crild-a_bert-base-l6_1xb32-20e_glue-rte.py'

model = dict(layer_map='uniform', mixup=None)
