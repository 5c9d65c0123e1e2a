# FGVC-Aircraft (100 variants), MMPretrain's FGVCAircraft dataset.
# Unlabeled train images for further pre-training.
_base_ = './mae_224.py'

train_dataloader = dict(
    dataset=dict(
        type='FGVCAircraft',
        data_root='data/fgvc-aircraft-2013b/data',
        split='trainval'))
