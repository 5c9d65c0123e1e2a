# Copyright (c) mmsd contributors. All rights reserved.
import torch

from mmsd.text.crild import (OBJECTIVES, attention_kl, hidden_mse, relation_kl,
                             self_relations)


def test_attention_kl_formula_and_padding():
    torch.manual_seed(0)
    student = torch.randn(2, 3, 4, 4).softmax(-1)
    teacher = torch.randn(2, 3, 4, 4).softmax(-1)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    kl = (teacher * (teacher.log() - student.log())).sum(-1)  # (B, H, L)
    expected = (kl[0].sum() + kl[1, :, :2].sum()) / (3 * 4 + 3 * 2)
    torch.testing.assert_close(attention_kl(student, teacher, mask), expected)
    assert attention_kl(teacher, teacher, mask) == 0


def test_hidden_mse_and_relations_ignore_padding():
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 4, 6), torch.randn(2, 4, 6)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    error = (student - teacher).pow(2)
    expected = (error[0].sum() + error[1, :2].sum()) / (6 * 6)
    torch.testing.assert_close(hidden_mse(student, teacher, mask), expected)
    relations = self_relations(student, mask, num_heads=2)
    assert relations.shape == (2, 2, 4, 4)
    assert torch.all(relations[1, :, :, 2:] == 0)  # padded keys
    torch.testing.assert_close(relations.sum(-1), torch.ones(2, 2, 4))


def test_the_table_names_each_objective_its_feature_and_loss():
    assert set(OBJECTIVES) == {'attention', 'hidden', 'qkv'}
    assert OBJECTIVES['attention'].loss is attention_kl
    assert OBJECTIVES['hidden'].loss is hidden_mse
    assert OBJECTIVES['qkv'].loss is relation_kl
    # Only hidden states also pair the embeddings (layer 0).
    assert [n for n, o in OBJECTIVES.items()
            if o.with_embeddings] == ['hidden']
    torch.manual_seed(0)
    maps = [torch.randn(2, 2, 3, 3).softmax(-1) for _ in range(6)]
    mask = torch.ones(2, 3)
    expected = sum(
        attention_kl(s, t, mask) for s, t in zip(maps[:3], maps[3:])) / 3
    torch.testing.assert_close(
        relation_kl(tuple(maps[:3]), tuple(maps[3:]), mask), expected)
