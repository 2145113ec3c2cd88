"""Every training config runs the exactly-resumable loop because the config
says so (no rewrite in tools/train.py), and an explicit type wins."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmdcct.utils import validate_config

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
RESUMABLE = 'mmdcct.ResumableEpochBasedTrainLoop'
TRAIN_CONFIGS = sorted(
    path for pattern in ('configs/**/*.py', 'projects/*/configs/*.py')
    for path in glob.glob(osp.join(REPO, pattern), recursive=True)
    if '_base_' not in path or '/schedules/' in path)


def train_cfg(path):
    return Config.fromfile(path).get('train_cfg')


@pytest.mark.parametrize(
    'path', TRAIN_CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_training_configs_use_the_resumable_loop(path):
    cfg = train_cfg(path)
    if cfg is None:  # test-only configs
        return
    assert cfg.get('type') == RESUMABLE, (path, cfg)
    assert 'by_epoch' not in cfg, (path, cfg)


def test_an_explicit_loop_type_wins(tmp_path):
    user = tmp_path / 'user.py'
    user.write_text(
        f"_base_ = [{osp.join(REPO, 'configs/_base_/schedules/sgd_50e.py')!r}]"
        "\ntrain_cfg = dict(type='EpochBasedTrainLoop')\n")
    cfg = Config.fromfile(str(user))
    assert cfg.train_cfg == dict(
        type='EpochBasedTrainLoop', max_epochs=50, val_interval=10)
    cfg.merge_from_dict({'train_cfg.type': 'mmengine.EpochBasedTrainLoop'})
    assert cfg.train_cfg.type == 'mmengine.EpochBasedTrainLoop'
    validate_config(cfg)


def test_type_and_by_epoch_together_fail_with_the_fix(tmp_path):
    """An older config on top of a schedule: MMEngine would refuse it at
    build time; validate_config names both values and the fix."""
    user = tmp_path / 'old_style.py'
    user.write_text(
        f"_base_ = [{osp.join(REPO, 'configs/_base_/schedules/sgd_50e.py')!r}]"
        '\ntrain_cfg = dict(by_epoch=True, max_epochs=3)\n')
    cfg = Config.fromfile(str(user))
    with pytest.raises(ValueError, match='by_epoch=True.*Drop by_epoch'):
        validate_config(cfg)
