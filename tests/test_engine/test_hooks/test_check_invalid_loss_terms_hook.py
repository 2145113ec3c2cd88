import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmdcct.engine import CheckInvalidLossTermsHook
from mmdcct.utils import checkpoint_allow_list


class NaNAtIter(BaseModel):
    """Its ``loss_bad`` term turns NaN at the ``nan_at``-th training step."""

    def __init__(self, nan_at: int):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.nan_at = nan_at
        self.steps = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear(x).mean()
        if mode != 'loss':
            return out
        self.steps += 1
        bad = out * 0 + float('nan') if self.steps >= self.nan_at else out
        return dict(loss_good=out.abs(), loss_bad=bad.abs())


def test_stops_naming_term_and_iteration_and_keeps_last_checkpoint(tmp_path):
    runner = Runner(
        model=NaNAtIter(nan_at=3),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(2)) for _ in range(8)],
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            num_workers=0,
            collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook', interval=1, by_epoch=False)),
        custom_hooks=[dict(type='mmdcct.CheckInvalidLossTermsHook')],
        default_scope='mmdcct')
    with pytest.raises(FloatingPointError) as err:
        runner.train()
    message = str(err.value)
    assert 'Loss term "loss_bad" is nan at iteration 3 (epoch 1)' in message
    assert 'loss_good' not in message.split('Invalid terms')[1]
    assert 'iter_2.pth' in message
    assert osp.isfile(tmp_path / 'iter_2.pth')
    assert not osp.exists(tmp_path / 'iter_3.pth')
    with checkpoint_allow_list():
        state = torch.load(tmp_path / 'iter_2.pth', weights_only=True)
    assert all(torch.isfinite(v).all() for v in state['state_dict'].values())


def test_inf_and_interval():
    hook = CheckInvalidLossTermsHook()
    assert hook._invalid_terms(
        dict(loss=torch.tensor(float('inf')), acc=torch.tensor(float('nan')),
             loss_ce=torch.tensor(1.0))) == [('loss', float('inf'))]
    assert [name for name, _ in hook._invalid_terms(
        dict(loss=torch.tensor(float('nan')),
             loss_fd=torch.tensor(float('nan'))))] == ['loss_fd', 'loss']
    assert CheckInvalidLossTermsHook.priority == 'ABOVE_NORMAL'
