# MARS-PGM (Gouk et al., ICLR 2021): after every step, project each
# pre-trained layer weight into the ball of radius gamma around its start
# under the max-absolute-row-sum norm. radius is a float or a dict of
# fnmatch patterns of parameter names to radii (per-layer radii). The
# radius is not from the paper (it depends on the network): tune it.
# Switch it on in a fine-tune config with
#   _base_ = [..., '../_base_/regularizers/mars.py']
#   custom_hooks = [_base_.mars_hook]
# For a text classifier use mars_hook_text (its new head is
# hf_model.classifier.).
mars_hook = dict(type='MARSProjectionHook', radius=1.0, new_prefixes=['head.'])
mars_hook_text = dict(mars_hook, new_prefixes=['hf_model.classifier.'])
