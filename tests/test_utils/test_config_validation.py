import pytest
from mmengine.config import Config

from mmdcct.utils import validate_config

REPO_CONFIG = 'configs/dcct/dcct_demo.py'


@pytest.fixture
def cfg():
    return Config.fromfile(REPO_CONFIG)


def test_repo_config_is_valid(cfg):
    validate_config(cfg)


def test_sampler_frames_differ_from_hta(cfg):
    cfg.train_dataloader.dataset.pipeline[0].num_frames = 6
    with pytest.raises(ValueError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert 'train_dataloader.dataset.pipeline.0' in msg
    assert 'num_frames=6' in msg and 'num_frames=4' in msg


def test_batch_not_divisible_by_instances(cfg):
    cfg.train_dataloader.batch_size = 10
    with pytest.raises(ValueError, match=r'batch_size=10 .*num_instances=4'):
        validate_config(cfg)


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
