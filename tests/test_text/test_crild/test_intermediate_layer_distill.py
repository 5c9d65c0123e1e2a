# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from conftest import build_ild, text_batch
from transformers import AutoModel

from mmsd.text.crild import attention_kl, hidden_mse


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
    assert set(losses) == {
        f'loss_{objective}', 'loss_consistency', 'consistency_weight'
    }
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


def test_teacher_and_student_see_the_same_mixup(tiny_bert_dir,
                                                crild_teacher_dir,
                                                monkeypatch):
    """Each encoder gets λ·E(x_i) + (1-λ)·E(x_rev(i)) of its own word
    embeddings, with the same λ, and the union of the two masks."""
    import mmsd.text.crild.intermediate_layer_distill as ild
    lam = torch.tensor([0.9, 0.6, 0.75, 0.5])
    monkeypatch.setattr(ild, 'mixup_lambda', lambda n, alpha: lam[:n])
    model = build_ild(tiny_bert_dir, crild_teacher_dir).train()
    seen = {}

    def record(name):

        def hook(module, args, kwargs):
            if 'inputs_embeds' in kwargs:  # not the clean consistency pass
                seen[name] = (kwargs['inputs_embeds'].detach(),
                              kwargs['attention_mask'])

        return hook

    for name in ('student', 'teacher'):
        getattr(model, name).register_forward_pre_hook(
            record(name), with_kwargs=True)
    inputs = text_batch(model)
    ids, mask = inputs['input_ids'], inputs['attention_mask']
    model.loss(inputs)
    assert set(seen) == {'student', 'teacher'}
    union = torch.maximum(mask, mask.flip(0))
    w = lam.view(-1, 1, 1)
    for name in ('student', 'teacher'):
        table = getattr(model, name).get_input_embeddings().weight.detach()
        expected = w * table[ids] + (1 - w) * table[ids.flip(0)]
        embeds, attention_mask = seen[name]
        torch.testing.assert_close(embeds, expected)
        assert torch.equal(attention_mask, union)
    # The two tables differ, so the check tells the encoders apart.
    assert not torch.equal(seen['student'][0], seen['teacher'][0])


def test_predict_gives_the_clean_losses_in_mmengines_val_protocol(
        tiny_bert_dir, crild_teacher_dir):
    model = build_ild(
        tiny_bert_dir,
        crild_teacher_dir,
        num_student_layers=2,
        layer_map='uniform').eval()
    inputs = text_batch(model)
    mask = inputs['attention_mask']
    outputs = model(inputs, mode='predict')
    assert len(outputs) == 1 and outputs[0].keys() == ['loss']
    losses = outputs[0].loss
    assert set(losses) == {
        'loss_attention', 'loss_hidden', 'last_attention', 'last_hidden'
    }
    # No mixup at validation: the plain losses of the clean batch.
    student = model.student(
        **inputs, output_attentions=True, output_hidden_states=True)
    teacher = model.teacher(
        **inputs, output_attentions=True, output_hidden_states=True)
    pairs = [(1, 1), (2, 2)]
    attention = [
        attention_kl(student.attentions[s - 1], teacher.attentions[t - 1],
                     mask) for s, t in pairs
    ]
    hidden = [
        hidden_mse(
            model.hidden_map(student.hidden_states[s]),
            teacher.hidden_states[t], mask) for s, t in [(0, 0), *pairs]
    ]
    torch.testing.assert_close(losses['loss_attention'], sum(attention) / 2)
    torch.testing.assert_close(losses['loss_hidden'], sum(hidden) / 3)
    torch.testing.assert_close(losses['last_attention'], attention[-1])
    torch.testing.assert_close(losses['last_hidden'], hidden[-1])
    crild = build_ild(tiny_bert_dir, crild_teacher_dir).eval()
    assert 'loss_consistency' not in crild(inputs, mode='predict')[0].loss


def test_the_consistency_weight_is_logged_with_the_loss(
        tiny_bert_dir, crild_teacher_dir):
    from mmengine.logging import MessageHub
    MessageHub.get_current_instance().update_info('iter', 1)
    model = build_ild(
        tiny_bert_dir,
        crild_teacher_dir,
        consistency=dict(weight=0.2, ramp_iters=4)).train()
    torch.manual_seed(0)
    losses = model.loss(text_batch(model))
    assert losses['consistency_weight'].item() == pytest.approx(0.2 * 2 / 4)
    loss, log_vars = model.parse_losses(losses)
    # Logged, but not part of the optimised sum.
    assert log_vars['consistency_weight'].item() == pytest.approx(0.1)
    torch.testing.assert_close(
        loss, losses['loss_attention'] + losses['loss_hidden'] +
        losses['loss_consistency'])
    with pytest.raises(ValueError, match='ramp_iters=-3'):
        build_ild(
            tiny_bert_dir,
            crild_teacher_dir,
            consistency=dict(weight=0.1, ramp_iters=-3))
