# Baseline "FPT": paper-faithful fine-tuning of the further pre-trained
# encoder (the teacher exported by the self-distillation run).
_base_ = './ft_vit-b-p16_sd_1xb32-10k_flowers102.py'

model = dict(
    backbone_checkpoint='work_dirs/'
    'sd_vit-b-p16_mae-in1k_1xb64-2x20k_flowers102/fpt_backbone.pth')
