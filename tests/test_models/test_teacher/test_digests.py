# Copyright (c) mmsd contributors. All rights reserved.
import torch
from torch import nn

from mmsd.models import modular_digests, module_fingerprint, sample_digests


def test_digests_are_per_sample_and_batch_independent():
    torch.manual_seed(0)
    x = torch.randn(5, 3, 8, 8)
    for digests in (sample_digests, lambda t: modular_digests(t.flatten(1))):
        full = digests(x)
        assert len(set(full)) == 5
        assert digests(x[2:4]) == full[2:4]
        assert digests(x[[4, 0]]) == [full[4], full[0]]
        changed = x.clone()
        changed[3, 1, 2, 2] = torch.nextafter(changed[3, 1, 2, 2],
                                              torch.tensor(10.))
        after = digests(changed)
        assert after[3] != full[3]
        assert after[:3] == full[:3] and after[4] == full[4]
    # Same values, different dtype: different bytes.
    assert sample_digests(x.double())[0] != sample_digests(x)[0]
    assert len(set(sample_digests(torch.zeros(3, 4, dtype=torch.uint8)))) == 1


def test_module_fingerprint_sees_values_names_and_dtypes():
    torch.manual_seed(0)
    linear = nn.Linear(3, 2)
    copy = nn.Linear(3, 2)
    copy.load_state_dict(linear.state_dict())
    assert module_fingerprint(copy) == module_fingerprint(linear)
    assert module_fingerprint(nn.Sequential(copy)) != module_fingerprint(
        linear)  # same tensors under other names
    with torch.no_grad():
        copy.bias[1] = torch.nextafter(copy.bias[1], torch.tensor(10.))
    assert module_fingerprint(copy) != module_fingerprint(linear)
    copy.load_state_dict(linear.state_dict())
    assert module_fingerprint(copy.double()) != module_fingerprint(linear)
