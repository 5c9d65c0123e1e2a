# Unlabeled text for masked language modelling: the texts of
# {data_root}/train.jsonl, labels ignored. Dataset configs set data_root.
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='TextDataset', ann_file='train.jsonl', label_key=None))
