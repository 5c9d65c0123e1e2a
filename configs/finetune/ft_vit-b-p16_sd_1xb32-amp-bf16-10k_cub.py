# Stage 3 on a GPU in mixed precision, bfloat16 (Ampere or newer), fine-tuning
# the encoder self-distilled in the same precision. GPU only (AmpOptimWrapper
# asserts CUDA).
_base_ = './ft_vit-b-p16_sd_1xb32-10k_cub.py'

optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16')
model = dict(backbone_checkpoint='work_dirs/'
             'sd_vit-b-p16_mae-in1k_1xb64-amp-bf16-2x20k_cub/sd_backbone.pth')
