# GLUE STS-B (sentence similarity, a 0-5 score: regression); Pearson and
# Spearman correlations.
_base_ = './glue.py'

data_root = 'data/glue/STS-B'
dataset = dict(
    data_root=data_root,
    text_key='sentence1',
    text_pair_key='sentence2',
    label_key='score',
    regression=True)
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
val_evaluator = dict(type='PearsonSpearman')
test_evaluator = val_evaluator
