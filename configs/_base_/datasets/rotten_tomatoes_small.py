# A small labelled subset of the embedded Rotten Tomatoes training snippets
# (train.jsonl) and a held-out split of the others (heldout.jsonl) in
# data_root, as benchmarks/crild_offline.py draws them per seed; the 1,000
# embedded test snippets are tested once at the end.
_base_ = './text_cls.py'

data_root = 'work_dirs/crild_offline/data'
classes = ('rotten', 'fresh')
train_dataloader = dict(
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(data_root=data_root, classes=classes))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, classes=classes, ann_file='heldout.jsonl'))
test_dataloader = dict(
    dataset=dict(
        data_root='demo_data/rotten_tomatoes',
        classes=classes,
        ann_file='test.jsonl'))
