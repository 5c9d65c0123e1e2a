# RecAdam (Chen et al., EMNLP 2020): AdamW on the task loss weighted by
# lambda(t) = sigmoid(k (t - t0)) plus a decoupled pull
# (1 - lambda(t)) * gamma * (w - w0) on the pre-trained weights; the
# authors' k, t0 and gamma (tuned for BERT at lr 2e-5: scale gamma with
# 1 / lr). Switch it on in a fine-tune config with
#   _base_ = [..., '../_base_/regularizers/recadam.py']
#   optim_wrapper = dict(
#       optimizer=_base_.recadam_optimizer,
#       paramwise_cfg=dict(custom_keys=_base_.recadam_new_params))
# or with one of the named variants below, e.g.
#   optim_wrapper = _base_.recadam_vit_b_10k
# recadam_new_params marks the new head (anneal_w=0: plain AdamW) through
# MMEngine's paramwise custom_keys.
recadam_optimizer = dict(
    type='RecAdam',
    anneal_fun='sigmoid',
    anneal_k=0.5,
    anneal_t0=250,
    pretrain_cof=5000.0)
recadam_new_params = {
    'head.fc.weight': dict(anneal_w=0.0),
    'head.fc.bias': dict(anneal_w=0.0, decay_mult=0.0),
}

# The ViT-B/16 rows (configs/baselines/, 10k iterations at lr 1e-4): gamma
# is the authors' 5000 scaled to lr 1e-4 (lr * gamma = 0.1, as theirs), t0
# at 10 % of the 10k iterations.
recadam_vit_b_10k = dict(
    optimizer=dict(
        recadam_optimizer, anneal_k=0.01, anneal_t0=1000,
        pretrain_cof=1000.0),
    paramwise_cfg=dict(custom_keys=recadam_new_params))
# The transformers classifiers (configs/text/baselines/): the authors'
# values; the new head is hf_model.classifier.
recadam_text = dict(
    optimizer=recadam_optimizer,
    paramwise_cfg=dict(
        custom_keys={'hf_model.classifier.': dict(anneal_w=0.0)}))
