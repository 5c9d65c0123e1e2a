# CR-ILD regime, baseline: all-layer ILD as TinyBERT's (student layer i to
# teacher layer 2i, embeddings to embeddings; attention KL and mapped
# hidden MSE), without mixup or consistency: the ILD the paper finds to
# overfit.
_base_ = './crild-a_minilm-l6-l3_1xb32-40e_rotten-tomatoes-small.py'

model = dict(layer_map='uniform', mixup=None)
