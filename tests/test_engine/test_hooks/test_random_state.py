import random

import numpy as np
import torch

from mmdcct.engine.hooks.random_state import (get_random_state,
                                              set_random_state)


def draw():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)),
            float(np.random.randn()))


def test_random_state_round_trip_through_weights_only_checkpoint(tmp_path):
    state = get_random_state()
    expected = draw()
    torch.save(dict(rng=state), tmp_path / 's.pth')
    draw()
    # plain torch, no allow-list: the states are tensors and builtins only
    set_random_state(torch.load(tmp_path / 's.pth', weights_only=True)['rng'])
    assert draw() == expected
