# The embedded Rotten Tomatoes training snippets, unlabeled, for MLM.
_base_ = './text_mlm.py'

train_dataloader = dict(dataset=dict(data_root='demo_data/rotten_tomatoes'))
