# KDEP (He et al., CVPR 2022): a frozen ImageNet-supervised ResNet-50 teacher
# (2048-d pooled feature before its last ReLU) distilled into a ResNet-18
# student (512-d, also before its last ReLU). The teacher feature is
# projected on its top-512 principal directions (basis_file, computed once
# by tools/compute_svd_basis.py or SVDBasisHook), then power-temperature
# scaled (T = 0.1, n = 3); loss = w * MSE. w = 20 is the official weight for
# a standard supervised ResNet-50 teacher (3 for a stronger one).
model = dict(
    type='KDEP',
    teacher=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    student=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    # MMPretrain's supervised ResNet-50 (76.55 % top-1), downloaded from
    # https://download.openmmlab.com/mmclassification/v0/resnet/
    # resnet50_8xb32_in1k_20210831-ea4938fc.pth
    teacher_checkpoint='checkpoints/'
    'resnet50_8xb32_in1k_20210831-ea4938fc.pth',
    teacher_prefix='backbone.',
    basis_file='checkpoints/kdep_svd-basis_r50-in1k_k512.pth',
    head=dict(
        type='PTSFeatureDistillHead',
        temperature=0.1,
        power=3.0,
        loss_weight=20.0))
