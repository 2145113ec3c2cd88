"""Shared pytest fixtures of the mmdcct test-suite.

``synthetic_mars`` writes, once per test session, a tiny synthetic dataset
with the exact MARS layout (see :func:`mmdcct.datasets.make_synthetic_mars`)
and returns the generator's summary (``summary['out_dir']`` is the root,
``summary['train_tracks']`` / ``summary['test_tracks']`` /
``summary['query_idx']`` describe every tracklet). ``synthetic_mars_root``
returns the root folder only. The tree is shared: tests must not modify it
(copy it first, e.g. with ``shutil.copytree``).
"""
import pytest

from mmdcct.datasets.synthetic import make_synthetic_mars

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


@pytest.fixture(scope='session')
def synthetic_mars(tmp_path_factory) -> dict:
    """Write the tiny synthetic MARS tree and return its summary."""
    root = tmp_path_factory.mktemp('synthetic_mars') / 'MARS'
    return make_synthetic_mars(str(root), **TINY_MARS_CFG)


@pytest.fixture(scope='session')
def synthetic_mars_root(synthetic_mars) -> str:
    """Return the root of the tiny synthetic MARS tree (``data_root``)."""
    return synthetic_mars['out_dir']
