# Copyright (c) mmsd contributors. All rights reserved.
from types import SimpleNamespace

import torch

from mmsd.engine import RandomStateHook


def test_the_state_goes_into_the_checkpoint_and_back_before_iterating():
    hook = RandomStateHook()
    torch.manual_seed(3)
    checkpoint = dict(meta=dict(epoch=1))
    hook.before_save_checkpoint(None, checkpoint)
    assert checkpoint['meta']['epoch'] == 1  # other meta kept
    expected = torch.rand(5)  # what the uninterrupted run draws next
    torch.manual_seed(99)  # a resumed run is re-seeded by MMEngine
    hook.after_load_checkpoint(None, checkpoint)
    assert not torch.equal(torch.rand(5), expected)  # not restored yet
    hook.before_train_iter(None, 0)
    assert torch.equal(torch.rand(5), expected)
    # Restored once: later iterations keep drawing.
    state = torch.get_rng_state()
    hook.before_train_iter(None, 1)
    assert torch.equal(torch.get_rng_state(), state)


def test_a_checkpoint_without_a_state_changes_nothing():
    hook = RandomStateHook()
    hook.after_load_checkpoint(None, dict(meta={}))
    torch.manual_seed(5)
    state = torch.get_rng_state()
    hook.before_train_iter(None, 0)
    assert torch.equal(torch.get_rng_state(), state)


def test_the_train_loader_gets_its_own_seeded_generator():
    loader = SimpleNamespace(generator=None)
    runner = SimpleNamespace(
        seed=7, train_loop=SimpleNamespace(dataloader=loader))
    RandomStateHook().before_train(runner)
    assert torch.equal(loader.generator.get_state(),
                       torch.Generator().manual_seed(7).get_state())
    own = torch.Generator()
    loader.generator = own
    RandomStateHook().before_train(runner)  # an existing one is kept
    assert loader.generator is own
    runner.seed = None
    loader.generator = None
    RandomStateHook().before_train(runner)
    assert torch.equal(loader.generator.get_state(),
                       torch.Generator().manual_seed(0).get_state())
