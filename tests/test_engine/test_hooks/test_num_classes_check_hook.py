"""``NumClassesCheckHook``: the head's ``num_classes`` against the training
identities, before the first iteration."""
from types import SimpleNamespace

import pytest
import torch

from mmdcct.engine import NumClassesCheckHook


def _runner(num_classes, num_pids, wrapped=False):
    model = torch.nn.Module()
    if num_classes is not None:
        model.head = SimpleNamespace(num_classes=num_classes)
    if wrapped:  # a model wrapper registered in MMEngine's MODEL_WRAPPERS
        model = torch.nn.DataParallel(model)
    metainfo = {} if num_pids is None else dict(num_pids=num_pids)
    dataset = SimpleNamespace(metainfo=metainfo)
    return SimpleNamespace(
        model=model, train_dataloader=SimpleNamespace(dataset=dataset))


@pytest.mark.parametrize('num_classes, num_pids', [
    (6, 6),  # match
    (None, 6),  # a model without a classifier head
    (6, None),  # a dataset that does not count identities
])
def test_passes_when_equal_or_unknown(num_classes, num_pids):
    NumClassesCheckHook().before_train(_runner(num_classes, num_pids))


@pytest.mark.parametrize('wrapped', [False, True])
def test_mismatch_names_both_numbers_and_the_fix(wrapped):
    with pytest.raises(ValueError, match=r'num_classes=7 .*num_pids=6 .*'
                       r'set model.head.num_classes=6'):
        NumClassesCheckHook().before_train(_runner(7, 6, wrapped=wrapped))


def test_num_classes_vs_identities(tmp_path, synthetic_mars_root,
                                   tiny_video_reid_cfg):
    from mmengine.runner import Runner
    model = tiny_video_reid_cfg(num_classes=7)  # the fixture has 6 train ids
    runner = Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=dict(
            batch_size=4,
            num_workers=0,
            sampler=dict(type='IdentityBalancedSampler', num_instances=2),
            dataset=dict(
                type='MARS', data_root=synthetic_mars_root, split='train',
                pipeline=[
                    dict(type='RestrictedRandomSampling', num_frames=2),
                    dict(type='LoadTrackletFrames'),
                    dict(type='PackVideoReIDInputs')
                ])),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        custom_hooks=[dict(type='NumClassesCheckHook')],
        default_scope='mmdcct')
    with pytest.raises(ValueError,
                       match=r'num_classes=7 .*num_pids=6 identities'):
        runner.train()
