# Text demo stage 3: fine-tuning a 6-layer MiniLM on the embedded Rotten
# Tomatoes snippets (1,000 train), test on 1,000 once at the end. Set
# model.model_name_or_path to the initial, further-pre-trained (fpt/) or
# self-distilled (sd/) model directory.
_base_ = [
    '../../_base_/models/hf_seq_cls.py',
    '../../_base_/datasets/rotten_tomatoes.py',
    '../../_base_/schedules/text_finetune_2k.py',
    '../../_base_/text_runtime.py',
]

# The models exported from MLM have no trained BERT pooler: every row starts
# from a new one, so that only the encoder differs.
model = dict(
    model_name_or_path='data/all-MiniLM-L6-v2',
    num_classes=2,
    reinit_modules=('bert.pooler', ),
    data_preprocessor=dict(max_length=64))

iters = 200
optim_wrapper = dict(optimizer=dict(lr=5e-5))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=False,
        begin=0,
        end=12),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=12,
        end=iters),
]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=iters))
