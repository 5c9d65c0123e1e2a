# SciERC relations (Luan et al., 2018), as laid out by DAPT:
# {data_root}/{train,dev,test}.jsonl with "text" and "label".
_base_ = './text_cls.py'

data_root = 'data/sciie'
classes = ('COMPARE', 'CONJUNCTION', 'EVALUATE-FOR', 'FEATURE-OF',
           'HYPONYM-OF', 'PART-OF', 'USED-FOR')
train_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
val_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
test_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
