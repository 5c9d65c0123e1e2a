# Stage 1 on a GPU in mixed precision, float16 with dynamic loss scaling:
# MMEngine's AmpOptimWrapper runs the forward passes under torch.autocast. GPU
# only (AmpOptimWrapper asserts CUDA).
_base_ = './fpt_vit-b-p16_mae-in1k_1xb64-20k_cub.py'

optim_wrapper = dict(
    type='AmpOptimWrapper', dtype='float16', loss_scale='dynamic')
