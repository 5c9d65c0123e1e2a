# L2-SP (Li et al., ICML 2018): alpha/2 ||w - w0||^2 on the pre-trained
# weights, beta/2 ||w||^2 on the new ones; the paper's alpha and beta.
# It replaces weight decay. Switch it on in a fine-tune config with
#   _base_ = [..., '../_base_/regularizers/l2sp.py']
#   model = dict(regularizers=[_base_.l2sp])
#   optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
# For a text classifier use l2sp_text (its new head is hf_model.classifier.).
l2sp = dict(
    type='L2SPRegularizer', alpha=0.1, beta=0.01, new_prefixes=['head.'])
l2sp_text = dict(l2sp, new_prefixes=['hf_model.classifier.'])
