"""A checkpoint written by mmdcct before the engine restructuring still
loads -- weights-only through ``init_model`` and ``tools/test.py`` -- and
``tools/train.py --resume`` continues it exactly where it stopped.

``tests/data/checkpoints/coupled_tiny_048183f_iter_2.pth`` was written by
commit 048183f (MMEngine 0.10.7, torch 2.14, CPU) with::

    PYTHONPATH=<clone at 048183f> python tools/train.py legacy.py \\
        --work-dir <dir>    # then kept <dir>/iter_2.pth

where ``legacy.py`` held the settings of :data:`LEGACY_CONFIG` on top of the
tiny config of ``test_train_test_tools.py`` (written out in one file on
``configs/dcct/coupled_demo.py``), over the ``synthetic_mars`` fixture tree:
a Coupled model with a 4-channel ResNet-18 and a 16-dim one-layer ViT, Adam,
one epoch of 3 iterations with a checkpoint every 2 iterations.
``iter_2.pth`` is a mid-epoch checkpoint: weights, optimizer, schedulers,
message hub and ``meta['resume_state']`` (epoch 0, 2 batches trained, RNG
states). Resuming it with the engine of this tree on the model code of
048183f gives weights and optimizer state ``torch.equal`` to the
uninterrupted 048183f run; the model code may change numerics later, so
this test checks that the run continues at the right batch.
"""
import os.path as osp
import re
import shutil
import sys

import pytest
import torch

from mmdcct.utils import checkpoint_allow_list
from test_train_test_tools import REPO, run, write_tiny_config

LEGACY = osp.join(REPO, 'tests', 'data', 'checkpoints',
                  'coupled_tiny_048183f_iter_2.pth')

LEGACY_CONFIG = """
_base_ = [{tiny!r}]
model = dict(
    backbone=dict(
        cnn=dict(stem_channels=8, base_channels=4),
        transformer=dict(
            arch=dict(embed_dims=16, num_layers=1, num_heads=2,
                      feedforward_channels=32))),
    head=dict(in_channels=(32, 16)))
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(
    checkpoint=dict(interval=2, by_epoch=False, max_keep_ckpts=-1))
randomness = dict(seed=0, deterministic=True)
"""


@pytest.fixture(scope='module')
def legacy_config(tmp_path_factory, synthetic_mars):
    tmp_path = tmp_path_factory.mktemp('legacy_cfg')
    tiny = write_tiny_config(tmp_path, synthetic_mars['out_dir'],
                             synthetic_mars['num_train_ids'])
    path = tmp_path / 'legacy.py'
    path.write_text(LEGACY_CONFIG.format(tiny=tiny))
    return str(path)


def stored():
    with checkpoint_allow_list():
        return torch.load(LEGACY, map_location='cpu', weights_only=True)


def test_legacy_checkpoint_is_what_the_docstring_says():
    ckpt = stored()
    assert ckpt['meta']['mmengine_version'].startswith('0.10.7048183f')
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter']) == (0, 2)
    state = ckpt['meta']['resume_state']
    assert (state['epoch'], state['skip'], state['iter']) == (0, 2, 2)
    assert {'state_dict', 'optimizer', 'param_schedulers',
            'message_hub'} <= set(ckpt)


def test_init_model_loads_the_legacy_weights(legacy_config):
    from mmdcct.apis import init_model
    model = init_model(legacy_config, LEGACY)
    state = stored()['state_dict']
    assert model.state_dict().keys() == state.keys()
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert model.dataset_meta['num_pids'] == 6


def test_test_tool_evaluates_the_legacy_checkpoint(legacy_config, tmp_path):
    log = run([
        sys.executable, 'tools/test.py', legacy_config, LEGACY, '--work-dir',
        str(tmp_path)
    ])
    assert f'Load checkpoint from {LEGACY}' in log
    assert re.search(r'Epoch\(test\).*mAP: [\d.]+.*R1: [\d.]+', log)


def test_resume_continues_the_legacy_run_mid_epoch(legacy_config, tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    ckpt = str(work_dir / 'iter_2.pth')
    shutil.copy(LEGACY, ckpt)
    log = run([
        sys.executable, 'tools/train.py', legacy_config, '--work-dir',
        str(work_dir), '--resume', ckpt
    ])
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Resuming epoch 1 after its first 2 batches' in log
    assert re.search(r'Epoch\(train\) +\[1\]\[3/3\]', log)
    assert not re.search(r'Epoch\(train\) +\[1\]\[1/3\]', log)
    with checkpoint_allow_list():
        after = torch.load(work_dir / 'iter_3.pth', weights_only=True)
    assert after['meta']['iter'] == 3
    before = stored()['state_dict']
    assert any(not torch.equal(v, before[k])
               for k, v in after['state_dict'].items())
