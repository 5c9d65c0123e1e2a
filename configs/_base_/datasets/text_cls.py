# Labeled text in JSON lines ({"text": ..., "label": ...} per line):
# {data_root}/train.jsonl, dev.jsonl and test.jsonl. Dataset configs set
# data_root and classes. Accuracy, macro-F1 and micro-F1.
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='TextDataset', ann_file='train.jsonl'))
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='TextDataset', ann_file='dev.jsonl', test_mode=True))
test_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='TextDataset', ann_file='test.jsonl', test_mode=True))
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='SingleLabelMetric', average='macro', prefix='macro'),
    dict(
        type='SingleLabelMetric',
        average='micro',
        items=('f1-score', ),
        prefix='micro'),
]
test_evaluator = val_evaluator
