# GLUE STS-B (sentence similarity, a 0-5 score: regression):
# {data_root}/train.tsv and dev.tsv as distributed by GLUE; the dev set is
# the test set. Pearson and Spearman correlations.
data_root = 'data/glue/STS-B'
dataset = dict(
    type='TextDataset',
    data_root=data_root,
    text_key='sentence1',
    text_pair_key='sentence2',
    label_key='score',
    regression=True)
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(ann_file='train.tsv', **dataset))
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(ann_file='dev.tsv', test_mode=True, **dataset))
test_dataloader = val_dataloader
val_evaluator = dict(type='PearsonSpearman')
test_evaluator = val_evaluator
