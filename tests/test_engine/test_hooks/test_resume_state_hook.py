"""``ResumeStateHook`` on its own (one process): what it writes into
``checkpoint['meta']``, what it hands the loop after loading, and that the
checkpoint stays loadable with ``weights_only=True``. The resume itself
(loop + hook) is tested in ``tests/test_engine/test_runner/``."""
import random
from types import SimpleNamespace

import numpy as np
import torch

from mmdcct.engine import ResumeStateHook
from mmdcct.engine.hooks.random_state import get_random_state


def _loop(val_rng_state=None):
    return SimpleNamespace(
        resume_point=dict(epoch=3, skip=5, iter=41),
        val_rng_state=val_rng_state)


def test_no_loop_writes_nothing():
    hook = ResumeStateHook()
    checkpoint = dict(meta=dict(epoch=2))
    hook.before_save_checkpoint(None, checkpoint)
    assert checkpoint == dict(meta=dict(epoch=2))


def test_saves_resume_point_and_current_rng():
    hook = ResumeStateHook()
    hook.loop = _loop()
    torch.manual_seed(7)
    np.random.seed(7)
    random.seed(7)
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    state = checkpoint['meta']['resume_state']
    assert {k: state[k] for k in ('epoch', 'skip', 'iter', 'world_size')
            } == dict(epoch=3, skip=5, iter=41, world_size=1)
    assert len(state['rng']) == 1
    expected = get_random_state()
    assert torch.equal(state['rng'][0]['torch'], expected['torch'])
    assert state['rng'][0]['numpy'] == expected['numpy']


def test_saves_the_paused_rng_during_validation():
    paused = dict(get_random_state(), marker='before validation')
    hook = ResumeStateHook()
    hook.loop = _loop(val_rng_state=paused)
    checkpoint = dict(meta={})
    hook.before_save_checkpoint(None, checkpoint)
    assert checkpoint['meta']['resume_state']['rng'] == [paused]


def test_round_trip_weights_only(tmp_path):
    hook = ResumeStateHook()
    hook.loop = _loop()
    checkpoint = dict(state_dict=dict(w=torch.ones(2)))
    hook.before_save_checkpoint(None, checkpoint)
    path = tmp_path / 'ckpt.pth'
    torch.save(checkpoint, path)
    loaded = torch.load(path, weights_only=True)

    restored = ResumeStateHook()
    restored.after_load_checkpoint(None, loaded)
    state = restored.pop_loaded_state()
    assert (state['epoch'], state['skip'], state['iter']) == (3, 5, 41)
    assert torch.equal(state['rng']['torch'],
                       checkpoint['meta']['resume_state']['rng'][0]['torch'])
    assert restored.pop_loaded_state() is None  # handed over once


def test_checkpoint_without_state_clears_an_earlier_one():
    hook = ResumeStateHook()
    hook.loaded_state = dict(epoch=1, skip=0, iter=0, rng=None)
    hook.after_load_checkpoint(None, dict(meta=dict(epoch=1)))
    assert hook.pop_loaded_state() is None
    hook.after_load_checkpoint(None, dict(state_dict={}))  # no meta at all
    assert hook.pop_loaded_state() is None


def test_other_world_size_restores_rank0_and_warns(mmlogger_messages):
    rngs = [dict(name='rank0'), dict(name='rank1')]
    checkpoint = dict(meta=dict(resume_state=dict(
        epoch=2, skip=1, iter=9, world_size=2, rng=rngs)))
    hook = ResumeStateHook()
    hook.after_load_checkpoint(None, checkpoint)
    assert hook.pop_loaded_state() == dict(
        epoch=2, skip=1, iter=9, rng=dict(name='rank0'))
    assert any('RNG states of 2 rank(s), this run has 1' in m
               for m in mmlogger_messages)
