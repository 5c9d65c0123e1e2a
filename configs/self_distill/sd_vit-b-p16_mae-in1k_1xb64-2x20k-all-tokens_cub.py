# Ablation of the distilled representation: every final-norm token (class
# and patch tokens), squared error summed over tokens and features.
_base_ = './sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py'

model = dict(distill_head=dict(representation='all_tokens'))
