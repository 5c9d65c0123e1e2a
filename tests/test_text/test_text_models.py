# Copyright (c) mmsd contributors. All rights reserved.
from types import SimpleNamespace

import pytest
import torch
from conftest import TEXTS, perturb, text_batch
from mmpretrain.structures import DataSample
from transformers import (AutoModel, AutoModelForMaskedLM,
                          AutoModelForSequenceClassification, BertModel)

from mmsd.models.utils import CheckpointMismatchError
from mmsd.text import load_tokenizer
from mmsd.text.engine import SavePretrainedHook
from mmsd.text.models import HFMaskedLM, HFSequenceClassifier, SelfDistillMLM


@pytest.mark.parametrize('fixture', ['tiny_bert_dir', 'tiny_roberta_dir'])
def test_masked_only_logits_give_the_transformers_loss(fixture, request):
    path = request.getfixturevalue(fixture)
    fast = HFMaskedLM(path).eval()
    full = HFMaskedLM(path, masked_only_logits=False).eval()
    assert fast.mlm_head_name in ('cls', 'lm_head')
    inputs = text_batch(fast, seed=0)
    reference = full.hf_model(**inputs).loss
    torch.testing.assert_close(fast.loss(inputs)['loss_mlm'], reference)
    torch.testing.assert_close(full.loss(inputs)['loss_mlm'], reference)


def test_clean_inputs_undo_the_masking(tiny_bert_dir):
    model = HFMaskedLM(tiny_bert_dir)
    torch.manual_seed(0)
    plain = model.data_preprocessor.tokenizer(
        TEXTS, padding=True, return_tensors='pt')
    masked = text_batch(model, seed=0)
    assert not torch.equal(masked['input_ids'], plain['input_ids'])
    clean = model.clean_inputs(masked)
    assert torch.equal(clean['input_ids'], plain['input_ids'])
    assert 'labels' not in clean


@pytest.fixture
def sd_model(tiny_bert_dir):
    model = SelfDistillMLM(model_name_or_path=tiny_bert_dir)
    perturb(model.teacher)  # a teacher unlike the student
    model.distill_enabled = True
    return model


def test_teacher_is_frozen_in_eval_and_gets_no_gradient(sd_model):
    sd_model.train()
    assert sd_model.hf_model.training and not sd_model.teacher.training
    losses = sd_model.loss(text_batch(sd_model, seed=0))
    assert set(losses) == {'loss_mlm', 'loss_distill'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in sd_model.teacher.parameters())
    embeddings = sd_model.hf_model.bert.embeddings.word_embeddings.weight
    assert embeddings.grad is not None and embeddings.grad.abs().sum() > 0


def test_loss_distill_is_the_first_token_squared_error(sd_model):
    sd_model.eval()
    inputs = text_batch(sd_model, seed=0)
    clean = sd_model.clean_inputs(inputs)
    student = sd_model.hf_model.bert(**clean).last_hidden_state[:, 0]
    teacher = sd_model.teacher(**clean).last_hidden_state[:, 0]
    expected = (student - teacher).pow(2).sum(1).mean()
    loss = sd_model.loss(inputs)['loss_distill']
    torch.testing.assert_close(loss, expected)
    assert loss > 0


def test_mean_pool_skips_padding(tiny_bert_dir):
    model = SelfDistillMLM(
        model_name_or_path=tiny_bert_dir,
        distill_head=dict(
            type='SelfDistillHead',
            representation='mean_patch',
            num_extra_tokens=0)).eval()
    model.distill_enabled = True
    inputs = text_batch(model, seed=0)
    clean = model.clean_inputs(inputs)
    mask = clean['attention_mask'][..., None].float()
    teacher = model.teacher(**clean).last_hidden_state
    with torch.no_grad():
        model.teacher.embeddings.word_embeddings.weight[0].add_(1.0)  # [PAD]
    student = model.hf_model.bert(**clean).last_hidden_state

    def pool(x):
        return (x * mask).sum(1) / mask.sum(1)

    expected = (pool(student) - pool(teacher)).pow(2).sum(1).mean()
    torch.testing.assert_close(model.loss(inputs)['loss_distill'], expected)


def test_start_distill_restarts_from_the_initial_model(tmp_path):
    # A directory without an MLM head, like the real MiniLM: the head starts
    # random and must restart identical.
    from conftest import save_tiny_text_model
    path = save_tiny_text_model(str(tmp_path / 'mlm'))
    base = str(tmp_path / 'base')
    AutoModel.from_pretrained(path).save_pretrained(base)
    load_tokenizer(path).save_pretrained(base)
    model = SelfDistillMLM(model_name_or_path=base)
    assert any(k.startswith('cls.') for k in model.missing_keys)
    initial = {k: v.clone() for k, v in model.hf_model.state_dict().items()}
    with torch.no_grad():
        for param in model.hf_model.parameters():
            param.mul_(1.5)
    trained_encoder = {
        k: v.clone()
        for k, v in model.hf_model.bert.state_dict().items()
    }
    model.start_distill()
    assert model.distill_enabled
    for key, value in model.hf_model.state_dict().items():
        torch.testing.assert_close(value, initial[key], msg=key)
    for key, value in model.teacher.state_dict().items():
        torch.testing.assert_close(value, trained_encoder[key], msg=key)
    assert model.distill_round == 1
    assert model.state_dict()['_extra_state'].item() == 1


def test_teacher_from_a_directory_or_a_checkpoint(tiny_bert_dir, tmp_path):
    teacher = AutoModel.from_pretrained(tiny_bert_dir)
    with torch.no_grad():
        for param in teacher.parameters():
            param.add_(1.0)
    teacher.save_pretrained(tmp_path / 'teacher')  # with a BERT pooler
    model = SelfDistillMLM(
        model_name_or_path=tiny_bert_dir,
        teacher_checkpoint=str(tmp_path / 'teacher'))
    model.init_weights()
    assert model.distill_enabled
    expected = model.teacher.embeddings.word_embeddings.weight.clone()
    torch.testing.assert_close(expected,
                               teacher.embeddings.word_embeddings.weight)
    # An MMEngine checkpoint of an HFMaskedLM run.
    state = {
        f'hf_model.bert.{k}': v
        for k, v in teacher.state_dict().items() if not k.startswith('pooler')
    }
    torch.save(dict(state_dict=state), tmp_path / 'fpt.pth')
    model = SelfDistillMLM(
        model_name_or_path=tiny_bert_dir,
        teacher_checkpoint=str(tmp_path / 'fpt.pth'))
    model.init_weights()
    torch.testing.assert_close(model.teacher.embeddings.word_embeddings.weight,
                               expected)


def test_mismatched_teacher_is_refused(tiny_bert_dir, tiny_roberta_dir):
    model = SelfDistillMLM(
        model_name_or_path=tiny_bert_dir, teacher_checkpoint=tiny_roberta_dir)
    with pytest.raises(CheckpointMismatchError, match='teacher'):
        model.init_weights()


def test_sd_needs_an_initial_model(tiny_bert_dir):
    with pytest.raises(ValueError, match='needs model_name_or_path'):
        SelfDistillMLM(
            config=dict(
                model_type='bert',
                hidden_size=32,
                num_hidden_layers=1,
                num_attention_heads=2,
                intermediate_size=32),
            tokenizer=tiny_bert_dir)


def classifier_batch(model):
    data = model.data_preprocessor(dict(inputs=TEXTS), False)
    samples = [DataSample().set_gt_label(i % 2) for i in range(len(TEXTS))]
    return data['inputs'], samples


def test_classifier_loss_and_predictions(tiny_bert_dir):
    model = HFSequenceClassifier(
        num_classes=2, model_name_or_path=tiny_bert_dir)
    inputs, samples = classifier_batch(model)
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss'} and losses['loss'] > 0
    model.eval()
    predictions = model(inputs, samples, mode='predict')
    logits = model(inputs, mode='tensor')
    assert logits.shape == (4, 2)
    for sample, row in zip(predictions, logits):
        torch.testing.assert_close(sample.pred_score, row.softmax(0))
        assert sample.pred_label.item() == row.argmax().item()


def test_reinit_modules_starts_the_pooler_anew(tiny_bert_dir):
    kwargs = dict(num_classes=2, model_name_or_path=tiny_bert_dir)
    torch.manual_seed(0)
    kept = HFSequenceClassifier(**kwargs).hf_model.bert
    torch.manual_seed(0)
    fresh = HFSequenceClassifier(
        reinit_modules=('bert.pooler', ), **kwargs).hf_model.bert
    assert not torch.equal(kept.pooler.dense.weight, fresh.pooler.dense.weight)
    torch.testing.assert_close(kept.encoder.state_dict(),
                               fresh.encoder.state_dict())


def test_export_round_trips_through_from_pretrained(tiny_bert_dir, tmp_path):
    classifier = HFSequenceClassifier(
        num_classes=2, model_name_or_path=tiny_bert_dir).eval()
    sd = SelfDistillMLM(model_name_or_path=tiny_bert_dir).eval()
    for model, sources in ((classifier, dict(classifier='hf_model')),
                           (sd, dict(sd='hf_model', fpt='teacher'))):
        runner = SimpleNamespace(model=model, work_dir=str(tmp_path))
        SavePretrainedHook(sources).after_train(runner)
    inputs, _ = classifier_batch(classifier)
    loaded, info = AutoModelForSequenceClassification.from_pretrained(
        tmp_path / 'classifier', output_loading_info=True)
    assert not info['missing_keys'] and not info['mismatched_keys']
    torch.testing.assert_close(loaded.eval()(**inputs).logits,
                               classifier(inputs, mode='tensor'))
    loaded, info = AutoModelForMaskedLM.from_pretrained(
        tmp_path / 'sd', output_loading_info=True)
    assert not info['missing_keys']
    torch.testing.assert_close(loaded.eval()(**inputs).logits,
                               sd.hf_model(**inputs).logits)
    teacher = BertModel.from_pretrained(
        tmp_path / 'fpt', add_pooling_layer=False)
    torch.testing.assert_close(
        teacher(**inputs).last_hidden_state,
        sd.teacher(**inputs).last_hidden_state)


def test_fpt_is_saved_whole_with_its_stage_one_head(tiny_bert_dir, tmp_path):
    """fpt/ is the further-pre-trained MLM (encoder and head as they were
    at the switch): AutoModelForMaskedLM loads it with no missing keys and
    the same logits; before a switch only the encoder can be saved."""
    sd = SelfDistillMLM(model_name_or_path=tiny_bert_dir).eval()
    assert sd.further_pretrained_mlm is sd.teacher
    with torch.no_grad():  # stand-in for stage 1
        for param in sd.hf_model.parameters():
            param.add_(0.1 * torch.randn_like(param))
    inputs, _ = classifier_batch(
        HFSequenceClassifier(num_classes=2, model_name_or_path=tiny_bert_dir))
    stage_one_logits = sd.hf_model(**inputs).logits
    sd.start_distill()
    assert not torch.allclose(sd.hf_model(**inputs).logits, stage_one_logits)
    runner = SimpleNamespace(model=sd, work_dir=str(tmp_path))
    SavePretrainedHook(dict(fpt='further_pretrained_mlm')).after_train(runner)
    loaded, info = AutoModelForMaskedLM.from_pretrained(
        tmp_path / 'fpt', output_loading_info=True)
    assert not info['missing_keys'] and not info['unexpected_keys']
    torch.testing.assert_close(loaded.eval()(**inputs).logits,
                               stage_one_logits)
    # The head survives a checkpoint (a resume after the switch).
    restored = SelfDistillMLM(model_name_or_path=tiny_bert_dir).eval()
    restored.load_state_dict(sd.state_dict())
    torch.testing.assert_close(
        restored.further_pretrained_mlm(**inputs).logits, stage_one_logits)


def test_hook_names_a_wrong_source(tiny_bert_dir, tmp_path):
    model = HFSequenceClassifier(
        num_classes=2, model_name_or_path=tiny_bert_dir)
    runner = SimpleNamespace(model=model, work_dir=str(tmp_path))
    with pytest.raises(
            AttributeError, match="no submodule or attribute 'teacher'"):
        SavePretrainedHook(dict(fpt='teacher')).after_train(runner)
    with pytest.raises(TypeError, match='not a transformers model'):
        SavePretrainedHook(dict(head='head')).after_train(runner)


def test_hook_snapshots_after_the_listed_epochs_only(tiny_bert_dir,
                                                     tmp_path):
    model = HFSequenceClassifier(
        num_classes=2, model_name_or_path=tiny_bert_dir)
    hook = SavePretrainedHook(dict(student='hf_model'), epochs=(2, ))
    for epoch in range(3):  # runner.epoch: epochs finished before this one
        runner = SimpleNamespace(
            model=model, work_dir=str(tmp_path), epoch=epoch)
        hook.after_train_epoch(runner)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['student_epoch_2']
    loaded = AutoModelForSequenceClassification.from_pretrained(
        tmp_path / 'student_epoch_2')
    torch.testing.assert_close(loaded.state_dict(),
                               model.hf_model.state_dict())
    for bad in ((0, ), (1.5, )):
        with pytest.raises(ValueError, match='must be epoch numbers >= 1'):
            SavePretrainedHook(epochs=bad)


def test_regression_classifier_on_scores(tiny_bert_dir, tmp_path):
    from mmsd.text.datasets import TextDataset
    path = tmp_path / 'stsb.tsv'
    path.write_text('sentence1\tsentence2\tscore\n'
                    'the film\tthe movie\t4.5\nbad plot\tgreat fun\t0.2\n')
    dataset = TextDataset(
        str(path),
        text_key='sentence1',
        text_pair_key='sentence2',
        label_key='score',
        regression=True)
    samples = [dataset[i]['data_samples'] for i in range(2)]
    assert [s.gt_score.item() for s in samples] == pytest.approx([4.5, 0.2])
    model = HFSequenceClassifier(
        num_classes=1,
        model_name_or_path=tiny_bert_dir,
        head=dict(type='RegressionHead'))
    data = model.data_preprocessor(
        dict(
            inputs=dict(
                text=['the film', 'bad plot'],
                text_pair=['the movie', 'great fun'])))
    output = model(data['inputs'], mode='tensor').reshape(-1)
    loss = model(data['inputs'], samples, mode='loss')['loss']
    torch.testing.assert_close(loss,
                               ((output - torch.tensor([4.5, 0.2]))**2).mean())
    predictions = model(data['inputs'], samples, mode='predict')
    torch.testing.assert_close(
        torch.cat([p.pred_score for p in predictions]), output)


def test_classifier_regularizers_l2sp_and_r3f(tiny_bert_dir):
    torch.manual_seed(0)
    plain = HFSequenceClassifier(
        num_classes=2, model_name_or_path=tiny_bert_dir)
    model = HFSequenceClassifier(
        num_classes=2,
        model_name_or_path=tiny_bert_dir,
        regularizers=[
            dict(
                type='L2SPRegularizer',
                alpha=0.1,
                beta=0.01,
                new_prefixes=['hf_model.classifier.']),
            dict(
                type='R3FRegularizer',
                embedding='hf_model.bert.embeddings.word_embeddings',
                sigma=0.1)
        ])
    model.load_state_dict(plain.state_dict(), strict=False)
    plain.eval(), model.eval()  # no dropout: the task losses must agree
    inputs, samples = classifier_batch(model)
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss', 'loss_l2sp', 'loss_r3f'}
    assert losses['loss_r3f'] == 0  # no noise out of training
    torch.testing.assert_close(losses['loss'],
                               plain(inputs, samples, mode='loss')['loss'])
    # At the start, w = w0: L2-SP only holds the new head at beta/2 |w|^2.
    head = model.hf_model.classifier.weight
    expected = 0.01 / 2 * (
        head.pow(2).sum() + model.hf_model.classifier.bias.pow(2).sum())
    torch.testing.assert_close(losses['loss_l2sp'], expected)
    model.train()
    assert model(inputs, samples, mode='loss')['loss_r3f'] > 0


def test_mmengine_never_reinitialises_a_transformers_model(
        tiny_bert_dir, tiny_classifier_dir):
    """build_hf_model marks every transformers model it builds (and its
    base model, so also a teacher copied from it) as initialised."""
    from transformers import PreTrainedModel

    from mmsd.text.crild import (IntermediateLayerDistill,
                                 PredictionLayerDistill)
    calls = []
    for model in (SelfDistillMLM(model_name_or_path=tiny_bert_dir),
                  HFSequenceClassifier(2, model_name_or_path=tiny_bert_dir),
                  PredictionLayerDistill(
                      teacher=tiny_classifier_dir,
                      num_classes=2,
                      model_name_or_path=tiny_bert_dir),
                  IntermediateLayerDistill(
                      student=tiny_bert_dir,
                      teacher=tiny_classifier_dir,
                      num_student_layers=1)):
        for module in model.modules():
            if isinstance(module, PreTrainedModel):
                module.init_weights = lambda m=module: calls.append(m)
        model.init_weights()
    assert calls == []
