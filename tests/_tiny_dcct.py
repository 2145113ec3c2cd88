"""A tiny *trained* DCCT checkpoint (CCA + HTA + self-distillation) on the
synthetic MARS fixture, behind the session fixture ``tiny_dcct`` of
tests/conftest.py (API, visualization, hook and infer-tool tests).

:func:`tiny_dcct` trains two epochs in-process with MMEngine's Runner (about
ten seconds on two CPU cores) and caches the result under the session's
pytest base temp folder, so every test module that asks gets the same
checkpoint and the training runs once per session.
"""
import os
import os.path as osp
import shutil
from typing import Dict

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

TINY_DCCT_CONFIG = """
_base_ = [{base!r}]
data_root = {data_root!r}
work_dir = {work_dir!r}
model = dict(
    backbone=dict(
        cnn=dict(stem_channels=16, base_channels=16),
        transformer=dict(
            arch=dict(embed_dims=32, num_layers=1, num_heads=2,
                      feedforward_channels=64),
            img_size=(64, 32), drop_path_rate=0.0)),
    spatial_neck=dict(in_channels=(128, 32)),
    temporal_neck=dict(in_channels=(128, 32), embed_dims=16, depth=1,
                       num_heads=2, num_frames=4),
    head=dict(num_classes={num_classes}, frame_channels=(128, 32),
              spatial_channels=(128, 32), video_channels=32),
    test_cfg=dict(feature='all'))
_test_pipeline = [
    dict(type='RestrictedRandomSampling', num_frames=4, mode='begin'),
    dict(type='LoadTrackletFrames'),
    dict(type='TrackletBroadcaster', transforms=[
        dict(type='mmcv.Resize', scale=(32, 64), keep_ratio=False)]),
    dict(type='PackVideoReIDInputs'),
]
_train_pipeline = [
    dict(type='RestrictedRandomSampling', num_frames=4, mode='random'),
    dict(type='LoadTrackletFrames'),
    dict(type='TrackletBroadcaster', transforms=[
        dict(type='mmcv.Resize', scale=(32, 64), keep_ratio=False),
        dict(type='mmcv.RandomFlip', prob=0.5, direction='horizontal')]),
    dict(type='PackVideoReIDInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(num_instances=2),
    dataset=dict(data_root=data_root, pipeline=_train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=_test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=2, val_interval=100)
param_scheduler = []
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, save_best=None))
randomness = dict(seed=0)
"""


def write_tiny_dcct_config(out_dir: str, data_root: str,
                           num_classes: int) -> str:
    """Write the tiny DCCT config into ``out_dir``; return its path."""
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, 'tiny_dcct.py')
    with open(path, 'w') as f:
        f.write(
            TINY_DCCT_CONFIG.format(
                base=osp.join(REPO, 'configs/dcct/dcct_demo.py'),
                data_root=data_root,
                work_dir=osp.join(out_dir, 'work'),
                num_classes=num_classes))
    return path


def tiny_dcct(tmp_path_factory, synthetic_mars: dict) -> Dict[str, str]:
    """Train (once per session) and return ``config`` / ``checkpoint``.

    Args:
        tmp_path_factory: pytest's session temp factory.
        synthetic_mars (dict): The ``synthetic_mars`` fixture's summary.

    Returns:
        dict: ``config`` (path), ``checkpoint`` (path of ``epoch_2.pth``),
        ``data_root``.
    """
    root = osp.join(str(tmp_path_factory.getbasetemp()), 'tiny_dcct')
    ckpt = osp.join(root, 'work', 'epoch_2.pth')
    cfg_path = osp.join(root, 'tiny_dcct.py')
    if not osp.isfile(ckpt):
        shutil.rmtree(root, ignore_errors=True)
        cfg_path = write_tiny_dcct_config(root, synthetic_mars['out_dir'],
                                          synthetic_mars['num_train_ids'])
        from mmengine.config import Config
        from mmengine.registry import DefaultScope
        from mmengine.runner import Runner

        # leave the caller's default scope as it was
        with DefaultScope.overwrite_default_scope('mmdcct'):
            Runner.from_cfg(Config.fromfile(cfg_path)).train()
    return dict(
        config=cfg_path, checkpoint=ckpt, data_root=synthetic_mars['out_dir'])
