"""Fixtures of the visualization tests (the tiny trained DCCT checkpoint is
tests/conftest.py's)."""
import os.path as osp

import pytest


@pytest.fixture(scope='session')
def one_tracklet(tmp_path_factory, synthetic_mars):
    """A folder holding the frames of one test tracklet (6+ frames)."""
    import shutil
    track = next(t for t in synthetic_mars['test_tracks']
                 if t['kind'] == 'person' and len(t['names']) >= 6)
    dst = tmp_path_factory.mktemp('one_tracklet') / 'tracklet'
    dst.mkdir()
    src = osp.join(synthetic_mars['out_dir'], 'bbox_test',
                   track['names'][0][:4])
    for name in track['names']:
        shutil.copy(osp.join(src, name), dst)
    return str(dst)
