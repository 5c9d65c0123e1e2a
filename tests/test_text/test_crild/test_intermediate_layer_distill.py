# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from conftest import build_ild, text_batch
from transformers import AutoModel


def test_student_is_the_pretrained_bottom_layers(tiny_bert_dir,
                                                 crild_teacher_dir):
    model = build_ild(tiny_bert_dir, crild_teacher_dir)
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
        build_ild(tiny_bert_dir, crild_teacher_dir, num_student_layers=3)


@pytest.mark.parametrize('objective', ['attention', 'hidden', 'qkv'])
def test_consistency_is_active_for_every_objective(tiny_bert_dir,
                                                   crild_teacher_dir,
                                                   objective):
    torch.manual_seed(0)
    model = build_ild(
        tiny_bert_dir, crild_teacher_dir, objectives=(objective, ))
    model.train()
    losses = model.loss(text_batch(model))
    assert set(losses) == {f'loss_{objective}', 'loss_consistency'}
    assert losses['loss_consistency'] > 0 and losses[f'loss_{objective}'] > 0
    losses['loss_consistency'].backward()
    embeddings = model.student.embeddings.word_embeddings.weight
    assert embeddings.grad is not None and embeddings.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())
    if objective == 'hidden':  # the map serves the teacher term only
        assert model.hidden_map.weight.grad is None


def test_teacher_gets_no_gradient_and_stays_in_eval(tiny_bert_dir,
                                                    crild_teacher_dir):
    model = build_ild(
        tiny_bert_dir,
        crild_teacher_dir,
        objectives=('attention', 'hidden', 'qkv'))
    model.train()
    assert not model.teacher.training
    sum(model.loss(text_batch(model)).values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.hidden_map.weight.grad.abs().sum() > 0


def test_baselines_by_config(tiny_bert_dir, crild_teacher_dir):
    ild = build_ild(tiny_bert_dir, crild_teacher_dir, mixup=None)
    assert set(ild.loss(text_batch(ild))) == {'loss_attention', 'loss_hidden'}
    tinybert = build_ild(
        tiny_bert_dir,
        crild_teacher_dir,
        num_student_layers=2,
        layer_map='uniform',
        mixup=None)
    assert tinybert.layer_pairs == [(1, 1), (2, 2)]
    assert tinybert.hidden_pairs == [(0, 0), (1, 1), (2, 2)]
    assert set(tinybert.loss(
        text_batch(tinybert))) == {'loss_attention', 'loss_hidden'}
    with pytest.raises(ValueError, match='objectives'):
        build_ild(tiny_bert_dir, crild_teacher_dir, objectives=('logits', ))


def test_without_mixup_the_hidden_loss_is_plain_mse(tiny_bert_dir,
                                                    crild_teacher_dir):
    model = build_ild(
        tiny_bert_dir, crild_teacher_dir, mixup=None,
        objectives=('hidden', )).eval()
    inputs = text_batch(model)
    mask = inputs['attention_mask']
    student = model.hidden_map(model.student(**inputs).last_hidden_state)
    teacher = model.teacher(**inputs).last_hidden_state
    error = (student - teacher).pow(2).mean(-1)
    expected = (error * mask).sum() / mask.sum()
    torch.testing.assert_close(model.loss(inputs)['loss_hidden'], expected)


def test_unknown_consistency_keys_are_named(tiny_bert_dir, crild_teacher_dir):
    with pytest.raises(ValueError, match=r"unknown keys \['wieght'\]"):
        build_ild(
            tiny_bert_dir, crild_teacher_dir, consistency=dict(wieght=0.1))


def test_crild_is_a_wing_registered_under_its_names():
    from mmpretrain.registry import MODELS

    import mmsd.text.crild
    import mmsd.text.models
    for name in ('IntermediateLayerDistill', 'PredictionLayerDistill'):
        assert MODELS.get(name) is getattr(mmsd.text.crild, name)
        assert not hasattr(mmsd.text.models, name)
