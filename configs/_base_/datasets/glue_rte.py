# GLUE RTE (textual entailment).
_base_ = './glue.py'

data_root = 'data/glue/RTE'
dataset = dict(
    data_root=data_root,
    text_key='sentence1',
    text_pair_key='sentence2',
    columns=None,
    label_key='label',
    classes=('entailment', 'not_entailment'))
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
val_evaluator = [dict(type='Accuracy', topk=(1, ))]
test_evaluator = val_evaluator
