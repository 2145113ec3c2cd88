import random

import numpy as np
import torch
from mmengine.config import Config

from mmdcct.utils import (get_random_state, set_random_state,
                          use_resumable_train_loop)


def draw():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)),
            float(np.random.randn()))


def test_random_state_round_trip_through_weights_only_checkpoint(tmp_path):
    state = get_random_state()
    expected = draw()
    torch.save(dict(rng=state), tmp_path / 's.pth')
    draw()
    set_random_state(torch.load(tmp_path / 's.pth', weights_only=True)['rng'])
    assert draw() == expected


def test_use_resumable_train_loop():
    cfg = Config(dict(train_cfg=dict(by_epoch=True, max_epochs=3)))
    assert use_resumable_train_loop(cfg)
    assert cfg.train_cfg == dict(
        type='mmdcct.ResumableEpochBasedTrainLoop', max_epochs=3)
    explicit = Config(
        dict(train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=3)))
    override = Config(
        dict(train_cfg=dict(
            type='EpochBasedTrainLoop', by_epoch=True, max_epochs=3)))
    assert not use_resumable_train_loop(override)
    assert override.train_cfg == explicit.train_cfg
    iter_based = Config(dict(train_cfg=dict(by_epoch=False, max_iters=9)))
    for cfg in (explicit, iter_based, Config(dict())):
        before = cfg.to_dict()
        assert not use_resumable_train_loop(cfg)
        assert cfg.to_dict() == before
