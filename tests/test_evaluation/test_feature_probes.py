# Copyright (c) mmsd contributors. All rights reserved.
import math

import pytest
import torch

from mmsd.evaluation import knn_predict, linear_probe_predict


def test_knn_votes_are_weighted_by_similarity():
    # Query (1, 0): its two nearest bank points are class 1 but only a
    # little similar; the nearest (class 0) is almost identical. A plain
    # majority of k=3 says 1; exp(sim / T) weights say 0.
    angle = math.radians(60)
    bank = torch.tensor([[1.0, 0.05], [math.cos(angle),
                                       math.sin(angle)],
                         [math.cos(angle), -math.sin(angle)], [-1.0, 0.0]])
    labels = torch.tensor([0, 1, 1, 1])
    query = torch.tensor([[2.0, 0.0]])  # the scale must not matter
    assert knn_predict(bank, labels, query, 2, k=3, temperature=0.07) == 0
    # At a high temperature the weights are nearly equal: majority wins.
    assert knn_predict(bank, labels, query, 2, k=3, temperature=100.0) == 1
    # k=1 is the nearest neighbour; k larger than the bank uses all of it.
    assert knn_predict(bank, labels, query, 2, k=1) == 0
    assert knn_predict(bank, labels, query, 2, k=50, temperature=100.0) == 1


def test_knn_matches_a_direct_computation():
    generator = torch.Generator().manual_seed(0)
    bank = torch.randn(40, 6, generator=generator)
    labels = torch.randint(0, 4, (40, ), generator=generator)
    query = torch.randn(9, 6, generator=generator)
    expected = []
    for q in query:
        similarity = torch.nn.functional.cosine_similarity(bank, q[None])
        top = similarity.topk(5)
        votes = torch.zeros(4)
        for sim, index in zip(top.values, top.indices):
            votes[labels[index]] += torch.exp(sim / 0.1)
        expected.append(int(votes.argmax()))
    predicted = knn_predict(
        bank, labels, query, 4, k=5, temperature=0.1, chunk_size=4)
    assert predicted.tolist() == expected


def test_knn_bad_input_is_named():
    with pytest.raises(ValueError, match='3 bank features but 2 labels'):
        knn_predict(torch.zeros(3, 2), torch.zeros(2), torch.zeros(1, 2), 2)
    with pytest.raises(ValueError, match=r'\(N, D\) and \(M, D\)'):
        knn_predict(torch.zeros(3, 2), torch.zeros(3), torch.zeros(1, 5), 2)
    with pytest.raises(ValueError, match='k must be >= 1'):
        knn_predict(
            torch.zeros(3, 2), torch.zeros(3), torch.zeros(1, 2), 2, k=0)


def test_linear_probe_separates_a_linear_problem():
    generator = torch.Generator().manual_seed(1)
    # Three classes along three directions, with an offset (needs the
    # bias) and a useless high-variance dimension (needs standardising).
    centres = torch.tensor([[4.0, 0, 0, 0], [0, 4.0, 0, 0], [0, 0, 4.0, 0]])
    labels = torch.arange(3).repeat(30)
    features = centres[labels] + 0.5 * torch.randn(90, 4, generator=generator)
    features[:, 3] *= 100.0
    features += 50.0
    test_labels = torch.arange(3).repeat(10)
    test = centres[test_labels] + 0.5 * torch.randn(
        30, 4, generator=generator) + 50.0
    test[:, 3] = 50.0 * torch.randn(30, generator=generator) + 50.0
    predicted = linear_probe_predict(features, labels, test, 3)
    assert predicted.tolist() == test_labels.tolist()


def test_linear_probe_is_chance_on_random_labels():
    generator = torch.Generator().manual_seed(2)
    features = torch.randn(400, 8, generator=generator)
    labels = torch.randint(0, 2, (400, ), generator=generator)
    test = torch.randn(400, 8, generator=generator)
    test_labels = torch.randint(0, 2, (400, ), generator=generator)
    accuracy = (linear_probe_predict(features, labels, test,
                                     2) == test_labels).float().mean()
    assert 0.4 < accuracy < 0.6


def test_linear_probe_bad_input_is_named():
    with pytest.raises(ValueError, match='5 features but 4 labels'):
        linear_probe_predict(
            torch.zeros(5, 2), torch.zeros(4), torch.zeros(1, 2), 2)
    with pytest.raises(ValueError, match='ridge must be >= 0'):
        linear_probe_predict(
            torch.zeros(5, 2),
            torch.zeros(5),
            torch.zeros(1, 2),
            2,
            ridge=-1.0)
