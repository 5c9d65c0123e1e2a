# Entry point: self-distillation for further pre-training of ViT-B/16 on
# CUB-200-2011, stages 1 + 2 in one run (see README.md).
_base_ = './self_distill/sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py'

# The fine-tune configs read the exported encoders from this folder.
work_dir = 'work_dirs/sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub'
