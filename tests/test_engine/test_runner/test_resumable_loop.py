"""ResumableEpochBasedTrainLoop + ResumeStateHook, in-process on a toy model:
a run stopped right after a checkpoint and resumed equals an uninterrupted
run bit for bit, and the resumed epoch loads no data of its trained batches."""
import random

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS
from torch.utils.data import Dataset

from mmdcct.engine import ResumableEpochBasedTrainLoop, ResumeStateHook
from mmdcct.utils import checkpoint_allow_list

NUM_ITEMS, BATCH = 12, 2  # 6 iterations per epoch


@DATASETS.register_module(force=True)
class NoisyToyDataset(Dataset):
    """Every item draws from Python's, numpy's and torch's global RNGs."""

    loads = 0

    def __len__(self):
        return NUM_ITEMS

    def __getitem__(self, idx):
        type(self).loads += 1
        x = torch.full((4, ), float(idx)) + torch.rand(4)
        x = x * float(np.random.uniform(0.5, 1.5)) + random.random()
        return dict(inputs=x, target=torch.tensor(float(idx % 3)))


@MODELS.register_module(force=True)
class DropoutRegressor(BaseModel):

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1))

    def forward(self, inputs, target=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.net(x).squeeze(1)
        if mode == 'loss':
            y = torch.stack(target) if isinstance(target, list) else target
            return dict(loss_mse=((out - y)**2).mean())
        return out


@METRICS.register_module(force=True)
class ToyMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.append(float(torch.stack(list(data_samples)).mean()))

    def compute_metrics(self, results):
        return dict(score=float(np.mean(results)))


@HOOKS.register_module(force=True)
class StopAfterIterHook(Hook):
    """Simulates the kill: raise once iteration ``at`` is checkpointed
    (``stage='iter'``) or after the validation that follows it
    (``stage='val'``, after the best checkpoint re-saved the epoch one)."""

    priority = 'LOWEST'

    def __init__(self, at, stage='iter'):
        self.at, self.stage = at, stage

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if self.stage == 'iter' and runner.iter + 1 == self.at:
            raise KeyboardInterrupt(f'killed after iter {self.at}')

    def after_val_epoch(self, runner, metrics=None):
        if self.stage == 'val' and runner.iter == self.at:
            raise KeyboardInterrupt(f'killed after val at {self.at}')


def make_runner(work_dir, by_epoch_ckpt, stop_at=None, resume_from=None):
    stage = 'val' if by_epoch_ckpt else 'iter'
    from mmengine.runner import Runner
    loader = dict(
        dataset=dict(type='NoisyToyDataset'),
        sampler=dict(type='DefaultSampler', shuffle=True),
        batch_size=BATCH,
        num_workers=0,
        collate_fn=dict(type='pseudo_collate'))
    custom_hooks = [] if stop_at is None else [
        dict(type='StopAfterIterHook', at=stop_at, stage=stage)
    ]
    return Runner(
        model=dict(type='DropoutRegressor'),  # built after seeding
        work_dir=str(work_dir),
        train_dataloader=loader,
        val_dataloader=dict(
            loader, sampler=dict(type='DefaultSampler', shuffle=False)),
        val_evaluator=dict(type='ToyMetric'),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.01)),
        param_scheduler=[
            dict(
                type='LinearLR',
                start_factor=0.2,
                by_epoch=True,
                begin=0,
                end=1,
                convert_to_iter_based=True),
            dict(type='MultiStepLR', by_epoch=True, milestones=[2]),
        ],
        train_cfg=dict(
            type='mmdcct.ResumableEpochBasedTrainLoop',
            max_epochs=3,
            val_interval=1),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(
                type='mmdcct.AtomicCheckpointHook',
                interval=1 if by_epoch_ckpt else 4,
                by_epoch=by_epoch_ckpt,
                save_best='score',
                rule='greater')),
        custom_hooks=custom_hooks,
        randomness=dict(seed=1),
        resume=resume_from is not None,
        load_from=resume_from,
        default_scope='mmdcct')


def final_state(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    runner = make_runner(tmp_path_factory.mktemp('full'), by_epoch_ckpt=False)
    runner.train()
    return final_state(runner)


@pytest.mark.parametrize(
    'by_epoch_ckpt,stop_at,ckpt',
    [
        (False, 4, 'iter_4.pth'),  # mid epoch 1: skip 4 of 6 batches
        (False, 12, 'iter_12.pth'),  # last batch of epoch 2 (skip all 6)
        (True, 6, 'epoch_1.pth'),  # epoch end, re-saved after val (best)
    ])
def test_stopped_and_resumed_equals_uninterrupted(tmp_path, uninterrupted,
                                                  by_epoch_ckpt, stop_at,
                                                  ckpt, safe_loading):
    runner = make_runner(tmp_path, by_epoch_ckpt, stop_at=stop_at)
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    with checkpoint_allow_list():
        state = torch.load(tmp_path / ckpt, weights_only=True)
    resume_state = state['meta']['resume_state']
    assert resume_state['iter'] == stop_at
    assert resume_state['skip'] == stop_at - resume_state['epoch'] * 6

    NoisyToyDataset.loads = 0
    resumed = make_runner(
        tmp_path, by_epoch_ckpt, resume_from=str(tmp_path / ckpt))
    assert resumed.train_loop.__class__ is ResumableEpochBasedTrainLoop
    assert any(isinstance(h, ResumeStateHook) for h in resumed.hooks)
    resumed.train()
    # the trained batches of the resumed epoch were never loaded
    val_loads = (3 - resume_state['epoch']) * NUM_ITEMS  # val every epoch
    assert NoisyToyDataset.loads == (3 * NUM_ITEMS - stop_at * BATCH +
                                     val_loads)
    for name, value in final_state(resumed).items():
        assert torch.equal(value, uninterrupted[name]), name


def test_load_from_does_not_skip(tmp_path, safe_loading):
    """``load_from`` (fine-tuning) a mid-epoch checkpoint trains from the
    start: the resume state is used only when the checkpoint is resumed."""
    runner = make_runner(tmp_path, False, stop_at=4)
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    fresh = make_runner(tmp_path / 'ft', False)
    fresh._load_from = str(tmp_path / 'iter_4.pth')
    NoisyToyDataset.loads = 0
    fresh.train()
    assert fresh.iter == 18
    assert NoisyToyDataset.loads == 3 * NUM_ITEMS + 3 * NUM_ITEMS  # + val
