# ChemProt relations (Kringelum et al., 2016), as laid out by DAPT:
# {data_root}/{train,dev,test}.jsonl with "text" and "label".
_base_ = './text_cls.py'

data_root = 'data/chemprot'
classes = ('ACTIVATOR', 'AGONIST', 'AGONIST-ACTIVATOR', 'AGONIST-INHIBITOR',
           'ANTAGONIST', 'DOWNREGULATOR', 'INDIRECT-DOWNREGULATOR',
           'INDIRECT-UPREGULATOR', 'INHIBITOR', 'PRODUCT-OF', 'SUBSTRATE',
           'SUBSTRATE_PRODUCT-OF', 'UPREGULATOR')
train_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
val_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
test_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
