"""Shared pytest fixtures of the mmdcct test-suite.

``synthetic_mars`` writes, once per test session, a tiny synthetic dataset
with the exact MARS layout (see :func:`mmdcct.testing.make_synthetic_mars`)
and returns the generator's summary (``summary['out_dir']`` is the root,
``summary['train_tracks']`` / ``summary['test_tracks']`` /
``summary['query_idx']`` describe every tracklet). ``synthetic_mars_root``
returns the root folder only. The tree is shared: tests must not modify it
(copy it first, e.g. with ``shutil.copytree``).

``synthetic_duke``, ``synthetic_ilids_vid`` and ``synthetic_prid2011`` do
the same for the DukeMTMC-VideoReID, iLIDS-VID and PRID-2011 layouts (32x16
frames written in a shuffled order; see
:func:`mmdcct.testing.make_synthetic_duke_video`,
:func:`mmdcct.testing.make_synthetic_ilids_vid` and
:func:`mmdcct.testing.make_synthetic_prid2011` for the returned summaries);
their ``out_dir`` is the ``data_root``. ``mmlogger_messages`` collects what
the datasets and transforms log.
"""
import importlib.util
import logging
import os.path as osp
from typing import List

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.runner import CheckpointLoader

from mmdcct.testing import (make_synthetic_duke_video,
                            make_synthetic_ilids_vid, make_synthetic_mars,
                            make_synthetic_prid2011)

#: Arguments of the shared tiny dataset: 6 train / 8 test identities,
#: 3 cameras, 64x32 images, tracklets of 2..12 frames.
TINY_MARS_CFG = dict(
    num_train_ids=6,
    num_test_ids=8,
    num_cams=3,
    cams_per_id=(2, 3),
    tracklets_per_cam=(1, 3),
    tracklet_len=(2, 12),
    img_size=(64, 32),
    seed=0)


_spec = importlib.util.spec_from_file_location(
    '_mmdcct_tests_tiny_dcct', osp.join(osp.dirname(__file__), '_tiny_dcct.py'))
_tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tiny)


@pytest.fixture(scope='session')
def tiny_dcct(tmp_path_factory, synthetic_mars):
    """``config`` / ``checkpoint`` / ``data_root`` of a tiny trained DCCT
    (tests/_tiny_dcct.py), trained once per session."""
    return _tiny.tiny_dcct(tmp_path_factory, synthetic_mars)


@pytest.fixture(autouse=True)
def restore_checkpoint_loading():
    """Tests that run a tool's ``main()`` in this process switch safe
    checkpoint loading on for the whole process, as the tools do; put
    MMEngine's loaders and torch's safe globals back after every test so
    that no test sees another one's switch (test-only private access)."""
    schemes = dict(CheckpointLoader._schemes)
    safe_globals = torch.serialization.get_safe_globals()
    yield
    CheckpointLoader._schemes = type(CheckpointLoader._schemes)(schemes)
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(safe_globals)


@pytest.fixture(scope='session')
def synthetic_mars(tmp_path_factory) -> dict:
    """Write the tiny synthetic MARS tree and return its summary."""
    root = tmp_path_factory.mktemp('synthetic_mars') / 'MARS'
    return make_synthetic_mars(str(root), **TINY_MARS_CFG)


@pytest.fixture(scope='session')
def synthetic_mars_root(synthetic_mars) -> str:
    """Return the root of the tiny synthetic MARS tree (``data_root``)."""
    return synthetic_mars['out_dir']


#: Tiny DukeMTMC-VideoReID layout: 6 train / 6 query / 3 distractor ids.
TINY_DUKE_CFG = dict(
    num_train_ids=6,
    num_test_ids=6,
    num_distractor_ids=3,
    tracklet_len=(2, 12),
    img_size=(32, 16),
    seed=0)

#: Tiny iLIDS-VID layout: 10 persons, 10 splits of 5 / 5.
TINY_ILIDS_CFG = dict(
    num_persons=10, tracklet_len=(4, 14), img_size=(32, 16), seed=0)

#: Tiny PRID-2011 layout: 12 persons in both cameras, 2 of them too short
#: (10 eligible -> splits of 5 / 5), 2 only in cam_a, 3 only in cam_b.
TINY_PRID_CFG = dict(
    num_persons=12,
    num_short=2,
    num_only_a=2,
    num_only_b=3,
    tracklet_len=(21, 26),
    short_len=(3, 12),
    img_size=(32, 16),
    seed=0)


@pytest.fixture(scope='session')
def synthetic_duke(tmp_path_factory) -> dict:
    """Write the tiny synthetic DukeMTMC-VideoReID tree; its summary."""
    root = tmp_path_factory.mktemp('synthetic_duke') / 'dukemtmc-vidreid'
    return make_synthetic_duke_video(str(root), **TINY_DUKE_CFG)


@pytest.fixture(scope='session')
def synthetic_ilids_vid(tmp_path_factory) -> dict:
    """Write the tiny synthetic iLIDS-VID tree; its summary."""
    root = tmp_path_factory.mktemp('synthetic_ilids') / 'ilids-vid'
    return make_synthetic_ilids_vid(str(root), **TINY_ILIDS_CFG)


@pytest.fixture(scope='session')
def synthetic_prid2011(tmp_path_factory) -> dict:
    """Write the tiny synthetic PRID-2011 tree; its summary."""
    root = tmp_path_factory.mktemp('synthetic_prid') / 'prid2011'
    return make_synthetic_prid2011(str(root), **TINY_PRID_CFG)


class _ListHandler(logging.Handler):
    """Collect the formatted messages of a logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f'{record.levelname}: {record.getMessage()}')


@pytest.fixture
def mmlogger_messages():
    """Messages logged to the current ``MMLogger`` during the test.

    MMEngine's loggers are not attached to the root logger, so pytest's
    ``caplog`` does not see them. Returns a list of ``'LEVEL: message'``
    strings that grows while the test runs.
    """
    logger = MMLogger.get_current_instance()
    handler = _ListHandler()
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def tiny_video_reid_cfg():
    """Factory of a tiny Coupled ``VideoReID`` config for 32x16 frames
    (ResNet-18 with 16 base channels + a 1-layer ViT, 8x8 patches)."""

    def make(num_classes: int, **kwargs) -> dict:
        cfg = dict(
            type='VideoReID',
            backbone=dict(
                type='CoupledBackbone',
                cnn=dict(
                    type='mmpretrain.ResNet',
                    depth=18,
                    stem_channels=16,
                    base_channels=16,
                    strides=(1, 2, 2, 1),
                    out_indices=(3, )),
                transformer=dict(
                    type='mmpretrain.VisionTransformer',
                    arch=dict(
                        embed_dims=32,
                        num_layers=1,
                        num_heads=2,
                        feedforward_channels=64),
                    img_size=(32, 16),
                    patch_size=8,
                    out_type='raw')),
            head=dict(
                type='BNNeckHead',
                num_classes=num_classes,
                in_channels=(128, 32)))
        cfg.update(kwargs)
        return cfg

    return make
