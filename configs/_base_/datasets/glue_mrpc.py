# GLUE MRPC (paraphrase).
_base_ = './glue.py'

data_root = 'data/glue/MRPC'
dataset = dict(
    data_root=data_root,
    text_key='#1 String',
    text_pair_key='#2 String',
    columns=None,
    label_key='Quality',
    classes=('0', '1'))
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(
        type='SingleLabelMetric',
        average=None,
        items=('f1-score', ),
        prefix='classwise')
]
test_evaluator = val_evaluator
