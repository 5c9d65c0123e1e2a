# Ablation of the MAE term: stage 2 trains on the distillation loss alone
# (stage 1 is unchanged). The decoder gets no gradient and stays at the
# initial weights; under DDP set model_wrapper_cfg=dict(
# type='MMDistributedDataParallel', find_unused_parameters=True).
_base_ = './sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py'

model = dict(mae_loss_weight=0.0)
