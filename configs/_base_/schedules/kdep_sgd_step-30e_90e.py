# KDEP's schedule (He et al., CVPR 2022): SGD lr 0.3, momentum 0.9, weight
# decay 5e-4, 90 epochs, lr x0.1 every 30 epochs, for a total batch of 512.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SummarizedOptimWrapperConstructor',
    optimizer=dict(type='SGD', lr=0.3, momentum=0.9, weight_decay=5e-4))

param_scheduler = dict(type='StepLR', by_epoch=True, step_size=30, gamma=0.1)

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=90)

# lr 0.3 is for 8 GPUs x 64 images; --auto-scale-lr rescales it.
auto_scale_lr = dict(base_batch_size=512)
