"""AtomicCheckpointHook and the 'atomic_local' file backend: a crash while
saving never corrupts the latest checkpoint, ``last_checkpoint`` or the
previous checkpoints."""
import itertools
import os
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.fileio import get_file_backend
from mmengine.fileio.backends import LocalBackend
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmdcct.engine import AtomicCheckpointHook, AtomicLocalBackend
from mmdcct.utils import checkpoint_allow_list


class Linear(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear(x).mean()
        return dict(loss=out.abs()) if mode == 'loss' else out


RUNS = itertools.count()


def make_runner(work_dir,
                hook_type='mmdcct.AtomicCheckpointHook',
                max_keep_ckpts=1,
                max_epochs=1,
                resume=False):
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
            type='mmdcct.ResumableEpochBasedTrainLoop', max_epochs=max_epochs),
        default_hooks=dict(
            checkpoint=dict(
                type=hook_type,
                interval=2,
                by_epoch=False,
                max_keep_ckpts=max_keep_ckpts)),
        resume=resume,
        # runners built in the same second would share a message hub
        experiment_name=f'atomic_ckpt_{next(RUNS)}',
        default_scope='mmdcct')


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


def load(path):
    with checkpoint_allow_list():
        return torch.load(path, weights_only=True)


def checkpoints(work_dir):
    return sorted(p for p in os.listdir(work_dir) if p.endswith('.pth'))


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


def test_backend_is_registered_next_to_local():
    assert type(get_file_backend(
        'a/b.pth', backend_args=dict(backend='atomic_local'))) is \
        AtomicLocalBackend
    assert type(get_file_backend('a/b.pth')) is LocalBackend
    hook = AtomicCheckpointHook(interval=1)
    assert hook.backend_args == dict(backend='atomic_local')
    # object stores (atomic uploads) and explicit backends are kept
    assert AtomicCheckpointHook(out_dir='s3://bucket/x').backend_args is None
    assert AtomicCheckpointHook(backend_args=dict(
        backend='local')).backend_args == dict(backend='local')


def test_backend_put_replaces_or_keeps_the_old_file(tmp_path, monkeypatch):
    backend = AtomicLocalBackend()
    path = tmp_path / 'sub' / 'f.bin'
    backend.put(b'old', path)
    backend.put_text('older', tmp_path / 'f.txt')
    assert path.read_bytes() == b'old'
    crash_on_put(monkeypatch, 'f.bin')
    with pytest.raises(OSError, match='killed while writing'):
        backend.put(b'new content', path)
    assert path.read_bytes() == b'old'
    assert sorted(os.listdir(path.parent)) == ['f.bin']  # no temp left
    monkeypatch.undo()
    backend.put(b'new content', path)
    assert path.read_bytes() == b'new content'
    assert (tmp_path / 'f.txt').read_text() == 'older'


def test_saves_prunes_and_points_to_latest(tmp_path):
    make_runner(tmp_path).train()
    assert checkpoints(tmp_path) == ['iter_6.pth']
    assert last_checkpoint(tmp_path) == str(tmp_path / 'iter_6.pth')
    assert not [p for p in os.listdir(tmp_path) if '.tmp-' in p]
    # the checkpoint lists the steps on disk while it was written (iter_4 is
    # deleted only afterwards), for a resumed run to prune
    assert load(
        tmp_path /
        'iter_6.pth')['message_hub']['runtime_info']['keep_ckpt_ids'] == [
            4, 6
        ]


def test_crash_while_saving_keeps_latest_intact(tmp_path, monkeypatch,
                                                safe_loading):
    crash_on_put(monkeypatch, 'iter_4.pth')
    with pytest.raises(OSError, match='killed while writing'):
        make_runner(tmp_path).train()
    # the previous checkpoint is still there, complete, and still "latest"
    assert last_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')
    ckpt = load(tmp_path / 'iter_2.pth')
    assert ckpt['meta']['iter'] == 2
    assert not osp.exists(tmp_path / 'iter_4.pth')

    # a SIGKILL would have left the temp file behind: the next run removes
    # it and resumes from iter_2
    stale = tmp_path / '.iter_4.pth.tmp-99999'
    stale.write_bytes(b'half')
    monkeypatch.undo()
    runner = make_runner(tmp_path, resume=True)
    runner.train()
    assert runner.iter == 6
    assert not [p for p in os.listdir(tmp_path) if '.tmp-' in p]
    assert checkpoints(tmp_path) == ['iter_6.pth']


def test_killed_before_pruning_the_resumed_run_prunes(tmp_path, monkeypatch,
                                                      safe_loading):
    """Killed after iter_4 was written and named in last_checkpoint but
    before iter_2 was deleted: the resumed run deletes iter_2 too."""
    prune = AtomicCheckpointHook._prune

    def killed_before_pruning(self, runner):
        if len(self.saved_steps) > self.keep_ckpts:
            raise KeyboardInterrupt('killed')
        prune(self, runner)

    monkeypatch.setattr(AtomicCheckpointHook, '_prune', killed_before_pruning)
    with pytest.raises(KeyboardInterrupt):
        make_runner(tmp_path).train()
    assert checkpoints(tmp_path) == ['iter_2.pth', 'iter_4.pth']
    assert last_checkpoint(tmp_path) == str(tmp_path / 'iter_4.pth')
    monkeypatch.undo()
    runner = make_runner(tmp_path, resume=True)
    runner.train()
    assert runner.iter == 6
    assert checkpoints(tmp_path) == ['iter_6.pth']


def test_keeps_the_newest_max_keep_ckpts(tmp_path):
    make_runner(tmp_path, max_keep_ckpts=2, max_epochs=2).train()
    assert checkpoints(tmp_path) == ['iter_10.pth', 'iter_12.pth']


def test_mmengine_hook_loses_the_latest_checkpoint(tmp_path, monkeypatch):
    """Why: MMEngine prunes first and writes in place."""
    crash_on_put(monkeypatch, 'iter_4.pth')
    with pytest.raises(OSError):
        make_runner(tmp_path, hook_type='CheckpointHook').train()
    assert not osp.exists(tmp_path / 'iter_2.pth')  # pruned before saving
    assert osp.getsize(tmp_path / 'iter_4.pth') > 0  # truncated in place
    with pytest.raises(Exception):
        load(tmp_path / 'iter_4.pth')
