# The training texts, unlabeled, for masked language modelling.
_base_ = './text_mlm.py'

train_dataloader = dict(dataset=dict(data_root='data/acl_arc'))
