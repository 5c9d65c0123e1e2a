# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmsd.kdep import KDEP, SVDBasis, capture_last_input, pooled_feature
from mmsd.models import (CheckpointMismatchError, FrozenTeacherMixin,
                         SelfDistillMAE)
from mmsd.utils import save_backbone

# Tiny ResNets: a Bottleneck teacher (256-d) and a BasicBlock student (64-d).
# Without zero-initialised residual norms, so that the last block is not an
# identity of the (ReLU'd) previous output at initialisation.
TEACHER = dict(
    type='ResNet',
    depth=50,
    stem_channels=8,
    base_channels=8,
    zero_init_residual=False)
STUDENT = dict(
    type='ResNet',
    depth=18,
    stem_channels=8,
    base_channels=8,
    zero_init_residual=False)


def tiny_vit(embed_dims: int, **kwargs) -> dict:
    return dict(
        type='VisionTransformer',
        arch=dict(
            embed_dims=embed_dims,
            num_layers=2,
            num_heads=4,
            feedforward_channels=2 * embed_dims),
        img_size=32,
        patch_size=8,
        **kwargs)


def write_basis(path, k: int, dim: int, seed: int = 0) -> str:
    gen = torch.Generator().manual_seed(seed)
    SVDBasis.compute(torch.randn(k + 20, dim, generator=gen),
                     k).save(str(path))
    return str(path)


def build_kdep(tmp_path,
               teacher=TEACHER,
               student=STUDENT,
               k=64,
               dim=256,
               **kwargs) -> KDEP:
    kwargs.setdefault('basis_file', write_basis(tmp_path / 'b.pth', k, dim))
    torch.manual_seed(0)
    model = MODELS.build(
        dict(type='KDEP', teacher=teacher, student=student, **kwargs))
    model.init_weights()
    return model


def images(batch: int = 4) -> torch.Tensor:
    return torch.randn(
        batch, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def test_kdep_shares_the_frozen_teacher_code_with_self_distill_mae():
    assert issubclass(KDEP, FrozenTeacherMixin)
    assert issubclass(SelfDistillMAE, FrozenTeacherMixin)


@pytest.mark.parametrize('who', ['student', 'teacher'])
def test_resnet_feature_is_taken_before_the_last_relu(tmp_path, who):
    model = build_kdep(tmp_path)
    model.train()
    backbone = getattr(model, 'backbone' if who == 'student' else who)
    block = backbone.layer4[-1]
    assert block.relu.inplace  # the pre-activation must survive it
    with capture_last_input(block.relu) as store:
        output = backbone(images())[-1]
    pre_activation = store['input']
    assert pre_activation.min() < 0  # a ReLU output never is
    torch.testing.assert_close(F.relu(pre_activation), output)
    feature = (
        model.extract_feat(images())
        if who == 'student' else model.extract_teacher_feat(images()))
    assert feature.shape == (4, 64 if who == 'student' else 256)
    assert feature.min() < 0
    if who == 'teacher':  # eval mode: deterministic, equal to the capture
        torch.testing.assert_close(feature, pre_activation.mean((2, 3)))


def test_basic_block_feature_equals_a_manual_forward(tmp_path):
    model = build_kdep(tmp_path)
    model.eval()
    backbone = model.backbone
    block = backbone.layer4[-1]
    captured = {}
    handle = block.register_forward_pre_hook(
        lambda mod, args: captured.setdefault('x', args[0].clone()))
    feature = pooled_feature(backbone, images())
    handle.remove()
    x = captured['x']
    out = block.norm2(block.conv2(F.relu(block.norm1(block.conv1(x)))))
    identity = x if block.downsample is None else block.downsample(x)
    torch.testing.assert_close(feature, (out + identity).mean((2, 3)))


def test_mobilenet_v2_feature_is_taken_before_relu6():
    backbone = MODELS.build(dict(type='MobileNetV2', widen_factor=0.25))
    backbone.eval()
    with capture_last_input(backbone.conv2.activate) as store:
        output = backbone(images(2))[-1]
    assert store['input'].min() < 0
    torch.testing.assert_close(store['input'].clamp(0, 6), output)
    feature = pooled_feature(backbone, images(2))
    assert feature.shape == (2, 1280) and feature.min() < 0


def test_teacher_frozen_in_eval_mode_and_without_gradient(tmp_path):
    model = build_kdep(tmp_path)
    model.train()
    assert model.backbone.training
    assert not any(m.training for m in model.teacher.modules())
    assert not any(p.requires_grad for p in model.teacher.parameters())
    stats = model.teacher.layer4[-1].bn3.running_mean.clone()
    losses = model.loss(images(), [])
    assert set(losses) == {'loss_kdep'}
    losses['loss_kdep'].backward()
    assert model.backbone.layer4[-1].conv2.weight.grad.abs().sum() > 0
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())
    torch.testing.assert_close(model.teacher.layer4[-1].bn3.running_mean,
                               stats)


def test_loss_matches_the_formula_and_ignores_labels(tmp_path):
    model = build_kdep(
        tmp_path, head=dict(type='PTSFeatureDistillHead', loss_weight=3.0))
    model.eval()  # deterministic student BN for the comparison
    inputs = images()
    loss = model.loss(inputs, None)['loss_kdep']
    labelled = [DataSample().set_gt_label(i % 2) for i in range(4)]
    torch.testing.assert_close(model.loss(inputs, labelled)['loss_kdep'], loss)
    basis = torch.load(model.basis_file, weights_only=True)
    teacher = model.extract_teacher_feat(inputs)
    target = (teacher - basis['mean']) @ basis['components'].t()
    target = torch.sign(target) * (target.abs() / 0.1)**(1 / 3)
    expected = 3.0 * ((model.extract_feat(inputs) - target)**2).mean()
    torch.testing.assert_close(loss, expected)
    # 'tensor' mode gives the student feature.
    torch.testing.assert_close(model(inputs), model.extract_feat(inputs))


def test_teacher_checkpoint_is_loaded_and_checked(tmp_path):
    teacher = MODELS.build(TEACHER)
    with torch.no_grad():
        teacher.conv1.weight.fill_(0.25)
    good = str(tmp_path / 'teacher.pth')
    save_backbone(teacher.state_dict(), good)
    model = build_kdep(tmp_path, teacher_checkpoint=good)
    assert torch.all(model.teacher.conv1.weight == 0.25)
    assert not model.teacher.conv1.weight.requires_grad

    prefixed = str(tmp_path / 'prefixed.pth')
    torch.save(
        dict(state_dict={
            f'encoder.{k}': v
            for k, v in teacher.state_dict().items()
        }), prefixed)
    model = build_kdep(
        tmp_path, teacher_checkpoint=prefixed, teacher_prefix='encoder.')
    assert torch.all(model.teacher.conv1.weight == 0.25)

    student_file = str(tmp_path / 'student.pth')
    save_backbone(MODELS.build(STUDENT).state_dict(), student_file)
    with pytest.raises(CheckpointMismatchError, match='teacher file'):
        build_kdep(tmp_path, teacher_checkpoint=student_file)


def test_missing_basis_file_names_the_path(tmp_path):
    path = str(tmp_path / 'missing_basis.pth')
    model = build_kdep(tmp_path, basis_file=path)  # building reads nothing
    with pytest.raises(FileNotFoundError, match='missing_basis.pth'):
        model.loss(images(), [])


def test_k_mismatch_names_file_k_and_student_width(tmp_path):
    path = write_basis(tmp_path / 'k32.pth', k=32, dim=256)
    model = build_kdep(tmp_path, basis_file=path)
    with pytest.raises(ValueError) as err:
        model.load_basis()
    message = str(err.value)
    assert 'k32.pth' in message
    assert 'k=32' in message
    assert 'student feature width is 64' in message
    with pytest.raises(ValueError, match='k=32'):
        model.loss(images(), [])


def test_teacher_width_mismatch(tmp_path):
    path = write_basis(tmp_path / 'd128.pth', k=64, dim=128)
    model = build_kdep(tmp_path, basis_file=path)
    with pytest.raises(
            ValueError,
            match=r"d128.pth' was computed on 128-d "
            'features, but the teacher feature width is 256'):
        model.load_basis()


@pytest.mark.parametrize('pooling', ['cls_token', 'mean_patch'])
def test_vit_feature_is_the_final_norm_token(tmp_path, pooling):
    model = build_kdep(
        tmp_path,
        teacher=tiny_vit(64),
        student=tiny_vit(32),
        k=32,
        dim=64,
        teacher_feature=dict(vit_pooling=pooling),
        student_feature=dict(vit_pooling=pooling))
    model.eval()
    assert (model.student_dim, model.teacher_dim) == (32, 64)
    inputs = images()
    model.teacher.out_type = 'raw'
    tokens = model.teacher(inputs)[-1]
    model.teacher.out_type = 'cls_token'
    expected = tokens[:, 0] if pooling == 'cls_token' else tokens[:,
                                                                  1:].mean(1)
    torch.testing.assert_close(model.extract_teacher_feat(inputs), expected)
    if pooling == 'cls_token':  # the backbone's own cls_token output
        torch.testing.assert_close(expected, model.teacher(inputs)[-1])
    model.train()
    losses = model.loss(inputs, [])
    losses['loss_kdep'].backward()
    assert model.backbone.ln1.weight.grad is not None
    assert all(p.grad is None for p in model.teacher.parameters())


def test_vit_student_with_an_unused_norm_is_refused(tmp_path):
    with pytest.raises(ValueError, match="out_type='avg_featmap'"):
        build_kdep(
            tmp_path,
            teacher=tiny_vit(64),
            student=tiny_vit(32, out_type='avg_featmap'),
            k=32,
            dim=64)
    with pytest.raises(ValueError, match='unknown student_feature'):
        build_kdep(tmp_path, student_feature=dict(pool='max'))


def test_building_reads_no_file(tmp_path):
    model = MODELS.build(
        dict(
            type='KDEP',
            teacher=TEACHER,
            student=STUDENT,
            basis_file=str(tmp_path / 'never_read.pth')))
    assert model._basis is None
    assert not any(p.requires_grad for p in model.teacher.parameters())


def test_kdep_is_a_wing_registered_under_its_names():
    from mmpretrain.registry import HOOKS

    import mmsd.engine
    import mmsd.kdep
    import mmsd.models
    for name, registry in (('KDEP', MODELS), ('PTSFeatureDistillHead', MODELS),
                           ('SVDBasisHook', HOOKS)):
        assert registry.get(name) is getattr(mmsd.kdep, name)
        assert not hasattr(mmsd.models, name)
        assert not hasattr(mmsd.engine, name)
