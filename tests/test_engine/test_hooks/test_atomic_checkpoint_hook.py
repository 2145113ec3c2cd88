"""AtomicCheckpointHook: a crash while saving never corrupts the latest
checkpoint, ``last_checkpoint`` or the previous checkpoints."""
import os
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.fileio.backends import LocalBackend
from mmengine.model import BaseModel
from mmengine.runner import Runner


class Linear(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear(x).mean()
        return dict(loss=out.abs()) if mode == 'loss' else out


def make_runner(work_dir, hook_type='mmdcct.AtomicCheckpointHook'):
    return Runner(
        model=Linear(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(2)) for _ in range(12)],
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            num_workers=0,
            collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(
            type='mmdcct.ResumableEpochBasedTrainLoop', max_epochs=1),
        default_hooks=dict(
            checkpoint=dict(
                type=hook_type, interval=2, by_epoch=False, max_keep_ckpts=1)),
        default_scope='mmdcct')


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


def crash_on_put(monkeypatch, name):
    """The write of ``name`` dies halfway (as if the process were killed)."""
    put = LocalBackend.put

    def dying_put(self, obj, filepath):
        if name in osp.basename(str(filepath)):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise OSError('killed while writing')
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', dying_put)


def test_saves_prunes_and_points_to_latest(tmp_path):
    make_runner(tmp_path).train()
    assert sorted(p for p in os.listdir(tmp_path)
                  if p.endswith('.pth')) == ['iter_6.pth']
    assert last_checkpoint(tmp_path) == str(tmp_path / 'iter_6.pth')
    assert not [p for p in os.listdir(tmp_path) if '.tmp-' in p]


def test_crash_while_saving_keeps_latest_intact(tmp_path, monkeypatch):
    crash_on_put(monkeypatch, 'iter_4.pth')
    with pytest.raises(OSError, match='killed while writing'):
        make_runner(tmp_path).train()
    # the previous checkpoint is still there, complete, and still "latest"
    assert last_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')
    ckpt = torch.load(tmp_path / 'iter_2.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 2
    assert not osp.exists(tmp_path / 'iter_4.pth')  # only a hidden temp

    # the next run removes the stale temp file and resumes from iter_2
    monkeypatch.undo()
    runner = make_runner(tmp_path)
    runner._resume = True
    runner.train()
    assert runner.iter == 6
    assert not [p for p in os.listdir(tmp_path) if '.tmp-' in p]


def test_mmengine_hook_loses_the_latest_checkpoint(tmp_path, monkeypatch):
    """Why: MMEngine prunes first and writes in place."""
    crash_on_put(monkeypatch, 'iter_4.pth')
    with pytest.raises(OSError):
        make_runner(tmp_path, hook_type='CheckpointHook').train()
    assert not osp.exists(tmp_path / 'iter_2.pth')  # pruned before saving
    assert osp.getsize(tmp_path / 'iter_4.pth') > 0  # truncated in place
    with pytest.raises(Exception):
        torch.load(tmp_path / 'iter_4.pth', weights_only=True)
