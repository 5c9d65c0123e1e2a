# CR-ILD regime, the teacher: the 6-layer MiniLM fine-tuned on the small
# labelled set (benchmarks/crild_offline.py). Writes {work_dir}/classifier.
_base_ = [
    '../../_base_/models/hf_seq_cls.py',
    '../../_base_/crild_regime.py',
]

model = dict(
    model_name_or_path='data/all-MiniLM-L6-v2',
    num_classes=2,
    data_preprocessor=dict(max_length=64))
optim_wrapper = dict(optimizer=dict(lr=5e-5))
custom_hooks = [
    dict(type='SavePretrainedHook', sources=dict(classifier='hf_model')),
]
