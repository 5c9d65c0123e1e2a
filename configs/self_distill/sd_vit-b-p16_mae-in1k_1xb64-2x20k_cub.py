# Stages 1 + 2: further pre-training, then self-distillation from the
# original weights towards the frozen further-pre-trained encoder. Set
# model.teacher_checkpoint to skip stage 1.
_base_ = [
    '../_base_/models/sd_mae_vit-b-p16.py',
    '../_base_/datasets/cub_mae.py',
    '../_base_/schedules/self_distill_2x20k.py',
    '../_base_/default_runtime.py',
]
