_base_ = './vit-b-p16_ft.py'

model = dict(backbone=dict(arch='deit-small'), head=dict(in_channels=384))
