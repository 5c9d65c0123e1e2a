# Rotten Tomatoes review snippets, fresh vs rotten (the embedded subset:
# 1,000 train and 1,000 test snippets; see demo_data/README.md). The test
# split is evaluated once at the end.
_base_ = './text_cls.py'

data_root = 'demo_data/rotten_tomatoes'
classes = ('rotten', 'fresh')
train_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
val_dataloader = dict(
    dataset=dict(data_root=data_root, classes=classes, ann_file='test.jsonl'))
test_dataloader = val_dataloader
