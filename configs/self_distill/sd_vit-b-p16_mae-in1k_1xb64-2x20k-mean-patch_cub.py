# Ablation of the distilled representation: the mean of the final-norm patch
# tokens instead of the class token (the unmasked passes then compute the
# last block for every token). 'all_tokens' distils every token.
_base_ = './sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py'

model = dict(distill_head=dict(representation='mean_patch'))
