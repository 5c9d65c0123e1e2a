# Stages 1 + 2 on a GPU in mixed precision, bfloat16 (Ampere or newer): every
# pass (masked MAE, unmasked student and teacher) runs under the same
# torch.autocast, and cached teacher features are keyed by that precision. GPU
# only (AmpOptimWrapper asserts CUDA).
_base_ = './sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py'

optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16')
