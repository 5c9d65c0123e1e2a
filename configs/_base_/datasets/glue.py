# GLUE tasks as distributed by GLUE: {data_root}/train.tsv and dev.tsv; the
# dev set is the test set (GLUE's test labels are hidden). Epoch-based
# loaders for the CR-ILD recipe. Task configs set the dataset's fields and
# the evaluator.
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='TextDataset', ann_file='train.tsv'))
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='TextDataset', ann_file='dev.tsv', test_mode=True))
test_dataloader = val_dataloader
