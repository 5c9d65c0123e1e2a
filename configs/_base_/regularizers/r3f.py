# R3F (Aghajanyan et al., ICLR 2021): lambda * symmetric KL between the
# predictions on clean and noised input embeddings; the paper's sigma and
# lambda. Switch it on in a fine-tune config with
#   _base_ = [..., '../_base_/regularizers/r3f.py']
#   model = dict(regularizers=[_base_.r3f])
# For a text classifier set embedding to the token-embedding module, as
# r3f_roberta does. sigma is absolute: 1e-5 is tiny next to unit-scale
# patch embeddings (see configs/demo/r3f_*.py).
r3f = dict(
    type='R3FRegularizer',
    embedding='backbone.patch_embed',
    noise_type='normal',
    sigma=1e-5,
    loss_weight=1.0)
# RoBERTa classifiers (configs/text/baselines/): noise on the token
# embeddings.
r3f_roberta = dict(
    r3f, embedding='hf_model.roberta.embeddings.word_embeddings')
