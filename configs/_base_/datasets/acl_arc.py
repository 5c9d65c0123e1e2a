# ACL-ARC citation intents (Jurgens et al., 2018), as laid out by DAPT:
# {data_root}/{train,dev,test}.jsonl with "text" and "label".
_base_ = './text_cls.py'

data_root = 'data/acl_arc'
classes = ('Background', 'CompareOrContrast', 'Extends', 'Future',
           'Motivation', 'Uses')
train_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
val_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
test_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
