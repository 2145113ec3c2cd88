"""End-to-end: tools/train.py, tools/test.py and tools/dist_train.sh on the
tiny synthetic MARS layout, through MMEngine's Runner."""
import json
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TINY_CONFIG = """
_base_ = [{base!r}]
data_root = {data_root!r}
img_scale = (32, 64)
model = dict(
    backbone=dict(
        transformer=dict(
            arch=dict(embed_dims=32, num_layers=1, num_heads=2,
                      feedforward_channels=64),
            img_size=(64, 32))),
    head=dict(in_channels=(512, 32), num_classes={num_classes}))
_test_pipeline = [
    dict(type='RestrictedRandomSampling', num_frames=4, mode='begin'),
    dict(type='LoadTrackletFrames'),
    dict(type='PackVideoReIDInputs'),
]
_train_pipeline = [
    dict(type='RestrictedRandomSampling', num_frames=4, mode='random'),
    dict(type='LoadTrackletFrames'),
    dict(type='TrackletBroadcaster', transforms=[
        dict(type='mmcv.RandomFlip', prob=0.5, direction='horizontal')]),
    dict(type='PackVideoReIDInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(num_instances=2),
    dataset=dict(data_root=data_root, pipeline=_train_pipeline))
val_dataloader = dict(
    batch_size=5, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=_test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
randomness = dict(seed=0)
"""


def write_tiny_config(tmp_path, data_root, num_classes):
    path = tmp_path / 'tiny_coupled.py'
    path.write_text(
        TINY_CONFIG.format(
            base=osp.join(REPO, 'configs/dcct/coupled_demo.py'),
            data_root=data_root,
            num_classes=num_classes))
    return str(path)


def run(cmd, **kwargs):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory, synthetic_mars):
    tmp_path = tmp_path_factory.mktemp('tiny_cfg')
    return write_tiny_config(tmp_path, synthetic_mars['out_dir'],
                             synthetic_mars['num_train_ids'])


@pytest.fixture(scope='module')
def trained(tiny_config, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('work'))
    log = run([
        sys.executable, 'tools/train.py', tiny_config, '--work-dir', work_dir
    ])
    return work_dir, log


def test_train_logs_losses_checkpoints_and_metrics(trained):
    work_dir, log = trained
    # the Coupled baseline supervises every frame (as the authors' code)
    assert 'loss_ce_frame' in log and 'loss_tri_frame' in log
    assert re.search(r'Epoch\(val\) \[2\].*mAP: [\d.]+.*R1: [\d.]+', log)
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_2.pth')
    # the checkpoint loads with torch's default weights-only unpickler once
    # mmdcct's allow-list is active (message hub, numpy scalars ...)
    from mmdcct.utils import checkpoint_allow_list
    with checkpoint_allow_list():
        ckpt = torch.load(
            osp.join(work_dir, 'epoch_2.pth'), weights_only=True)
    assert 'message_hub' in ckpt and 'optimizer' in ckpt


def test_test_tool_writes_metrics(trained, tiny_config, tmp_path):
    work_dir, _ = trained
    out = tmp_path / 'metrics.json'
    run([
        sys.executable, 'tools/test.py', tiny_config,
        osp.join(work_dir, 'epoch_2.pth'), '--work-dir',
        str(tmp_path), '--out',
        str(out), '--out-item', 'metrics'
    ])
    metrics = json.loads(out.read_text())
    for key in ('mAP', 'mINP', 'R1', 'R5', 'R10', 'R20'):
        assert 0.0 <= metrics[key] <= 100.0


def test_resume_continues_from_latest_checkpoint(trained, tiny_config):
    work_dir, _ = trained
    log = run([
        sys.executable, 'tools/train.py', tiny_config, '--work-dir', work_dir,
        '--resume', '--cfg-options', 'train_cfg.max_epochs=3'
    ])
    assert 'resumed epoch: 2' in log
    assert 'Epoch(train)  [3]' in log or 'Epoch(train) [3]' in log


def test_dist_train_two_gloo_processes_on_cpu(tiny_config, tmp_path):
    work_dir = str(tmp_path / 'dist')
    env_port = str(free_port())
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1',
               PORT=env_port)
    proc = subprocess.run([
        'bash', 'tools/dist_train.sh', tiny_config, '2', '--work-dir',
        work_dir, '--cfg-options', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1'
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    # no backend in the config: gloo, since there is no CUDA device
    assert ('Distributed backend: gloo (env_cfg.dist_cfg.backend unset: no '
            'CUDA device)') in log
    assert 'Distributed launcher: pytorch' in log
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # MMEngine's name for the world size
    assert re.search(r'Epoch\(val\) \[1\].*mAP: [\d.]+', log)
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


def test_init_model_loads_trained_weights(trained, tiny_config):
    from mmdcct.apis import init_model
    from mmdcct.utils import checkpoint_allow_list
    work_dir, _ = trained
    ckpt_path = osp.join(work_dir, 'epoch_2.pth')
    model = init_model(tiny_config, ckpt_path)
    with checkpoint_allow_list():
        state = torch.load(ckpt_path, weights_only=True)['state_dict']
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert not model.training
    x = torch.randint(0, 255, (2, 4, 3, 64, 32), dtype=torch.uint8)
    with torch.no_grad():
        feats = model(**model.data_preprocessor(dict(inputs=x)),
                      mode='tensor')
    assert feats.shape == (2, 2 * (512 + 32))  # 'all': base + BN-neck
