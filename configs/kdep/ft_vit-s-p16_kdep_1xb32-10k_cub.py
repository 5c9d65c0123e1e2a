# Transfer: fine-tune the KDEP ViT-S/16 student (ViT-B -> ViT-S on the
# ImageNet subset) on CUB-200-2011, paper-faithful fine-tuning recipe.
_base_ = '../finetune/ft_vit-s-p16_sd_1xb32-10k_cub.py'

model = dict(
    backbone_checkpoint='work_dirs/'
    'kdep_vit-b-vit-s_8xb64-90e_in1k-10pct/kdep_student.pth')
