_base_ = './vit-b-p16_ft.py'

model = dict(backbone=dict(arch='large'), head=dict(in_channels=1024))
