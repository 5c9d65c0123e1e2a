# Runtime shared by every mmsd config: MMPretrain's, iteration-based.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['mmsd'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    # Checkpoints are written aside and renamed: a run killed while saving
    # leaves the previous checkpoint intact, never a truncated one.
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=5000,
        max_keep_ckpts=3,
        backend_args=dict(backend='atomic_local')),
    # mmsd: check the data against the model before compute; stop on
    # NaN/inf losses; exact random state on resume; refuse a loaded or
    # resumed checkpoint that does not fit the model.
    data_check=dict(type='DataCheckHook'),
    finite_loss=dict(type='FiniteLossHook'),
    random_state=dict(type='RandomStateHook'),
    strict_load=dict(type='StrictLoadHook'))

log_processor = dict(by_epoch=False)

randomness = dict(seed=0, diff_rank_seed=True)
