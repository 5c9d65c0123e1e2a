# Fine-tuning the BERT-base teacher on a GLUE task: AdamW 2e-5, 3 epochs,
# the same warmup, decay and clipping as CR-ILD. Exports the classifier as a
# transformers directory (classifier/).
_base_ = './crild_adamw_20e.py'

max_epochs = 3
optim_wrapper = dict(optimizer=dict(lr=2e-5))
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

custom_hooks = [
    dict(type='SavePretrainedHook', sources=dict(classifier='hf_model')),
]
