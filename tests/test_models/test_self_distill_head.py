# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmsd.models import SelfDistillHead


def tokens(seed: int) -> torch.Tensor:
    return torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(seed))


def test_sse_on_cls_token_is_the_official_formula():
    student, teacher = tokens(0), tokens(1)
    head = SelfDistillHead(loss_weight=2.0)
    expected = ((student[:, 0] - teacher[:, 0])**2).sum(dim=1).mean()
    torch.testing.assert_close(head.loss(student, teacher), 2.0 * expected)


@pytest.mark.parametrize('representation, select', [
    ('cls_token', lambda x: x[:, 0]),
    ('mean_patch', lambda x: x[:, 1:].mean(dim=1)),
    ('all_tokens', lambda x: x),
])
def test_representations(representation, select):
    student, teacher = tokens(2), tokens(3)
    head = SelfDistillHead(representation=representation, criterion='mse')
    expected = F.mse_loss(select(student), select(teacher))
    torch.testing.assert_close(head.loss(student, teacher), expected)


def test_cosine_and_precomputed_teacher():
    student, teacher = tokens(4), tokens(5)
    head = SelfDistillHead(criterion='cosine')
    expected = (1 - F.cosine_similarity(student[:, 0], teacher[:, 0])).mean()
    torch.testing.assert_close(head.loss(student, teacher), expected)
    # An already selected teacher representation gives the same loss.
    torch.testing.assert_close(head.loss(student, teacher[:, 0]), expected)


def test_gradient_reaches_student_only():
    student = tokens(6).requires_grad_()
    teacher = tokens(7).requires_grad_()
    SelfDistillHead().loss(student, teacher).backward()
    assert student.grad is not None and student.grad[:, 0].abs().sum() > 0
    assert student.grad[:, 1:].abs().sum() == 0
    assert teacher.grad is None


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="representation='pooled'"):
        SelfDistillHead(representation='pooled')
    with pytest.raises(ValueError, match="criterion='l1'"):
        SelfDistillHead(criterion='l1')
