# KDEP for transformers: a frozen supervised DeiT-B/16 teacher (768-d
# final-norm class token) distilled into a ViT-S/16 student (384-d class
# token). The teacher token is projected on its top-384 principal directions
# (basis_file) and power-temperature scaled (T = 0.1, n = 3); w = 3, the
# official weight for a strong teacher (the paper has no ViT recipe). The
# student is a plain VisionTransformer, which the ViT-S fine-tune configs
# load (configs/finetune/ft_vit-s-p16_sd_1xb32-10k_cub.py).
model = dict(
    type='KDEP',
    teacher=dict(
        type='VisionTransformer',
        arch='deit-base',
        img_size=224,
        patch_size=16,
        out_type='cls_token',
        final_norm=True),
    student=dict(
        type='VisionTransformer',
        arch='deit-small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        out_type='cls_token',
        final_norm=True),
    # Use the token 'mean_patch' instead with dict(vit_pooling='mean_patch').
    teacher_feature=dict(vit_pooling='cls_token'),
    student_feature=dict(vit_pooling='cls_token'),
    # MMPretrain's DeiT-B (81.76 % top-1), downloaded from
    # https://download.openmmlab.com/mmclassification/v0/deit/
    # deit-base_pt-16xb64_in1k_20220216-db63c16c.pth
    teacher_checkpoint='checkpoints/deit-base_pt-16xb64_in1k_20220216-'
    'db63c16c.pth',
    teacher_prefix='backbone.',
    basis_file='checkpoints/kdep_svd-basis_deit-b-in1k_k384.pth',
    head=dict(
        type='PTSFeatureDistillHead',
        temperature=0.1,
        power=3.0,
        loss_weight=3.0))
