# Copyright (c) mmsd contributors. All rights reserved.
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from transformers import AutoModel, AutoModelForSequenceClassification

from mmsd.text import load_tokenizer
from mmsd.text.engine import SavePretrainedHook
from mmsd.text.models import IntermediateLayerDistill, PredictionLayerDistill
from mmsd.text.models.ild_losses import (attention_kl, mix_with_reversed,
                                         mixup_lambda, soft_cross_entropy,
                                         union_mask)

TEXTS = [
    'the film was good and fun', 'a bad boring plot', 'great acting',
    'the story was awful and not fun at all'
]


@pytest.fixture(scope='module')
def teacher_dir(tiny_bert_dir, tmp_path_factory):
    """A 'fine-tuned' 2-layer classifier: the tiny BERT, perturbed."""
    torch.manual_seed(1)
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_bert_dir, num_labels=2)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.1 * torch.randn_like(param))
    path = tmp_path_factory.mktemp('teacher')
    model.save_pretrained(path)
    load_tokenizer(tiny_bert_dir).save_pretrained(path)
    return str(path)


def build(tiny_bert_dir, teacher_dir, **kwargs):
    kwargs.setdefault('num_student_layers', 1)
    return IntermediateLayerDistill(
        student=tiny_bert_dir, teacher=teacher_dir, **kwargs)


def batch(model):
    return model.data_preprocessor(dict(inputs=TEXTS), True)['inputs']


def test_mixup_lambda_range_and_reversed_pairing():
    torch.manual_seed(0)
    lam = mixup_lambda(4000, alpha=1.0)
    assert lam.min() >= 0.5 and lam.max() <= 1.0
    assert abs(lam.mean().item() - 0.75) < 0.02  # Beta(1,1) folded: U(.5,1)
    x = torch.arange(4.0)[:, None].repeat(1, 3)
    lam = torch.tensor([0.5, 0.6, 0.7, 1.0])
    mixed = mix_with_reversed(x, lam)
    expected = [0.5 * 0 + 0.5 * 3, 0.6 * 1 + 0.4 * 2, 0.7 * 2 + 0.3 * 1, 3]
    torch.testing.assert_close(mixed[:, 0], torch.tensor(expected))
    mask = torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 0, 0]])
    assert union_mask(mask).tolist() == [[1, 1, 0], [1, 1, 1], [1, 1, 1],
                                         [1, 1, 0]]


def test_attention_kl_formula_and_padding():
    torch.manual_seed(0)
    student = torch.randn(2, 3, 4, 4).softmax(-1)
    teacher = torch.randn(2, 3, 4, 4).softmax(-1)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    kl = (teacher * (teacher.log() - student.log())).sum(-1)  # (B, H, L)
    expected = (kl[0].sum() + kl[1, :, :2].sum()) / (3 * 4 + 3 * 2)
    torch.testing.assert_close(attention_kl(student, teacher, mask), expected)
    assert attention_kl(teacher, teacher, mask) == 0


def test_soft_cross_entropy_is_temperature_scaled():
    student, teacher = torch.randn(5, 3), torch.randn(5, 3)
    expected = -(F.softmax(teacher / 2, -1) *
                 F.log_softmax(student / 2, -1)).sum(-1).mean() * 4
    torch.testing.assert_close(
        soft_cross_entropy(student, teacher, 2.0), expected)


def test_student_is_the_pretrained_bottom_layers(tiny_bert_dir, teacher_dir):
    model = build(tiny_bert_dir, teacher_dir)
    pretrained = AutoModel.from_pretrained(tiny_bert_dir)
    assert len(model.student.encoder.layer) == 1
    assert len(model.teacher.encoder.layer) == 2
    # (The tiny MLM has no pooler: the student's is new, as the teacher's
    # pooler-less saves are in a real run.)
    expected = {
        k: v
        for k, v in pretrained.state_dict().items()
        if not k.startswith(('encoder.layer.1.', 'pooler.'))
    }
    actual = {
        k: v
        for k, v in model.student.state_dict().items()
        if not k.startswith('pooler.')
    }
    assert actual.keys() == expected.keys()
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], msg=key)
    assert model.layer_pairs == [(1, 2)]
    with pytest.raises(ValueError, match='lacks .* weights'):
        build(tiny_bert_dir, teacher_dir, num_student_layers=3)


@pytest.mark.parametrize('objective', ['attention', 'hidden', 'qkv'])
def test_consistency_is_active_for_every_objective(tiny_bert_dir, teacher_dir,
                                                   objective):
    torch.manual_seed(0)
    model = build(tiny_bert_dir, teacher_dir, objectives=(objective, ))
    model.train()
    losses = model.loss(batch(model))
    assert set(losses) == {f'loss_{objective}', 'loss_consistency'}
    assert losses['loss_consistency'] > 0 and losses[f'loss_{objective}'] > 0
    losses['loss_consistency'].backward()
    embeddings = model.student.embeddings.word_embeddings.weight
    assert embeddings.grad is not None and embeddings.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())
    if objective == 'hidden':  # the map serves the teacher term only
        assert model.hidden_map.weight.grad is None


def test_teacher_gets_no_gradient_and_stays_in_eval(tiny_bert_dir,
                                                    teacher_dir):
    model = build(
        tiny_bert_dir, teacher_dir, objectives=('attention', 'hidden', 'qkv'))
    model.train()
    assert not model.teacher.training
    sum(model.loss(batch(model)).values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.hidden_map.weight.grad.abs().sum() > 0


def test_baselines_by_config(tiny_bert_dir, teacher_dir):
    ild = build(tiny_bert_dir, teacher_dir, mixup=None)
    assert set(ild.loss(batch(ild))) == {'loss_attention', 'loss_hidden'}
    tinybert = build(
        tiny_bert_dir,
        teacher_dir,
        num_student_layers=2,
        layer_map='uniform',
        mixup=None)
    assert tinybert.layer_pairs == [(1, 1), (2, 2)]
    assert tinybert.hidden_pairs == [(0, 0), (1, 1), (2, 2)]
    assert set(tinybert.loss(
        batch(tinybert))) == {'loss_attention', 'loss_hidden'}
    with pytest.raises(ValueError, match='objectives'):
        build(tiny_bert_dir, teacher_dir, objectives=('logits', ))


def test_without_mixup_the_hidden_loss_is_plain_mse(tiny_bert_dir,
                                                    teacher_dir):
    model = build(
        tiny_bert_dir, teacher_dir, mixup=None,
        objectives=('hidden', )).eval()
    inputs = batch(model)
    mask = inputs['attention_mask']
    student = model.hidden_map(model.student(**inputs).last_hidden_state)
    teacher = model.teacher(**inputs).last_hidden_state
    error = (student - teacher).pow(2).mean(-1)
    expected = (error * mask).sum() / mask.sum()
    torch.testing.assert_close(model.loss(inputs)['loss_hidden'], expected)


def test_ema_targets_follow_the_student(tiny_bert_dir, teacher_dir):
    model = build(
        tiny_bert_dir,
        teacher_dir,
        consistency=dict(weight=0.1, ema_momentum=0.5))
    model.train()
    assert not any(p.requires_grad for p in model.ema_student.parameters())
    with torch.no_grad():
        for param in model.student.parameters():
            param.add_(1.0)
    before = model.ema_student.embeddings.word_embeddings.weight.clone()
    model.loss(batch(model))
    after = model.ema_student.embeddings.word_embeddings.weight
    student = model.student.embeddings.word_embeddings.weight
    torch.testing.assert_close(after, 0.5 * before + 0.5 * student)


def test_stage_b_distills_predictions_of_the_stage_a_student(
        tiny_bert_dir, teacher_dir, tmp_path):
    stage_a = build(tiny_bert_dir, teacher_dir)
    SavePretrainedHook(dict(student='student')).after_train(
        SimpleNamespace(model=stage_a, work_dir=str(tmp_path)))
    model = PredictionLayerDistill(
        teacher=teacher_dir,
        num_classes=2,
        model_name_or_path=str(tmp_path / 'student'),
        temperature=2.0)
    assert len(model.hf_model.bert.encoder.layer) == 1
    torch.testing.assert_close(
        model.hf_model.bert.encoder.layer[0].state_dict(),
        stage_a.student.encoder.layer[0].state_dict())
    model.train()
    data = model.data_preprocessor(dict(inputs=TEXTS), True)
    samples = [DataSample().set_gt_label(i % 2) for i in range(4)]
    losses = model.loss(data['inputs'], samples)
    assert set(losses) == {'loss_kd'}
    losses['loss_kd'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    model.eval()
    with torch.no_grad():
        expected = soft_cross_entropy(
            model.forward_logits(data['inputs']),
            model.teacher(**data['inputs']).logits, 2.0)
        torch.testing.assert_close(
            model.loss(data['inputs'], samples)['loss_kd'], expected)
    with pytest.raises(ValueError, match='predicts 2 classes'):
        PredictionLayerDistill(
            teacher=teacher_dir,
            num_classes=3,
            model_name_or_path=str(tmp_path / 'student'))
