# Copyright (c) mmsd contributors. All rights reserved.
import torch

from mmsd.text.crild import mix_with_reversed, mixup_lambda, union_mask


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


def test_a_tuple_is_mixed_part_by_part():
    lam = torch.tensor([0.6, 0.9])
    parts = (torch.randn(2, 3), torch.randn(2, 4, 4))
    mixed = mix_with_reversed(parts, lam)
    assert isinstance(mixed, tuple) and len(mixed) == 2
    for part, out in zip(parts, mixed):
        torch.testing.assert_close(out, mix_with_reversed(part, lam))
