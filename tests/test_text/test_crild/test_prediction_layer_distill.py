# Copyright (c) mmsd contributors. All rights reserved.
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from conftest import TEXTS
from mmpretrain.structures import DataSample

from mmsd.text.crild import (IntermediateLayerDistill, PredictionLayerDistill,
                             soft_cross_entropy)
from mmsd.text.engine import SavePretrainedHook


def test_soft_cross_entropy_is_temperature_scaled():
    student, teacher = torch.randn(5, 3), torch.randn(5, 3)
    expected = -(F.softmax(teacher / 2, -1) *
                 F.log_softmax(student / 2, -1)).sum(-1).mean() * 4
    torch.testing.assert_close(
        soft_cross_entropy(student, teacher, 2.0), expected)


def test_stage_b_distills_predictions_of_the_stage_a_student(
        tiny_bert_dir, crild_teacher_dir, tmp_path):
    stage_a = IntermediateLayerDistill(
        student=tiny_bert_dir, teacher=crild_teacher_dir, num_student_layers=1)
    SavePretrainedHook(dict(student='student')).after_train(
        SimpleNamespace(model=stage_a, work_dir=str(tmp_path)))
    model = PredictionLayerDistill(
        teacher=crild_teacher_dir,
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
            teacher=crild_teacher_dir,
            num_classes=3,
            model_name_or_path=str(tmp_path / 'student'))
