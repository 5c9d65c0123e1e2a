# Baseline "FT": paper-faithful fine-tuning of the initial MAE encoder,
# without further pre-training.
_base_ = './ft_vit-b-p16_sd_1xb32-10k_aircraft.py'

model = dict(backbone_checkpoint='checkpoints/mae_vit-base-p16_in1k.pth')
