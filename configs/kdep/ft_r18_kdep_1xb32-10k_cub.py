# Transfer: fine-tune the KDEP ResNet-18 student (R50 -> R18 on the ImageNet
# subset) on CUB-200-2011 with the repository's fine-tuning schedule.
_base_ = [
    '../_base_/models/resnet18_ft.py',
    '../_base_/datasets/cub.py',
    '../_base_/schedules/finetune_paper_10k.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone_checkpoint='work_dirs/'
    'kdep_r50-r18_8xb64-90e_in1k-10pct/kdep_student.pth',
    head=dict(num_classes=200))
