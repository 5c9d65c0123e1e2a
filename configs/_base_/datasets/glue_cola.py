# GLUE CoLA (acceptability; a header-less TSV).
_base_ = './glue.py'

data_root = 'data/glue/CoLA'
dataset = dict(
    data_root=data_root,
    text_key='sentence',
    text_pair_key=None,
    columns=('source', 'label', 'mark', 'sentence'),
    label_key='label',
    classes=('unacceptable', 'acceptable'))
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
val_evaluator = [
    dict(type='MatthewsCorrelation'),
    dict(type='Accuracy', topk=(1, ))
]
test_evaluator = val_evaluator
