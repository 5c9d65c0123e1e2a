# CR-ILD stage B: the stage-A recipe for 4 epochs (batch 16 in the configs).
_base_ = './crild_adamw_20e.py'

max_epochs = 4
# Restated whole: the base computed its epoch boundaries from its own
# max_epochs before this file could change it.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=True,
        begin=0,
        end=max_epochs / 10,
        convert_to_iter_based=True),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=True,
        begin=max_epochs / 10,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
