# The CR-ILD regime (benchmarks/crild_offline.py): a small labelled set,
# CR-ILD's recipe by epochs, and every validation (every 2 epochs) on the
# held-out split and on the training split itself (MultiSplitValLoop:
# 'heldout/...' and 'train/...'), so the logs show where the two part.
# Leaves add a model base and set the model, the lr and, when not 20, the
# epochs.
_base_ = [
    './datasets/rotten_tomatoes_small.py',
    './schedules/crild_adamw_20e.py',
    './text_runtime.py',
]

# fused: the same AdamW update, about 5x faster on CPU.
optim_wrapper = dict(optimizer=dict(fused=True))
train_cfg = dict(val_interval=2)
# Log every iteration: a small set has a few iterations per epoch, and the
# consistency weight's ramp and term are then seen in full.
default_hooks = dict(logger=dict(interval=1))
val_cfg = dict(
    type='MultiSplitValLoop',
    name='heldout',
    splits=dict(
        train=dict(
            batch_size=64,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='TextDataset',
                data_root={{_base_.data_root}},
                ann_file='train.jsonl',
                classes={{_base_.classes}},
                test_mode=True))))
