"""The tiny trained DCCT checkpoint of tests/test_apis (trained once per
session, whichever folder asks first)."""
import importlib.util
import os.path as osp

import pytest

_spec = importlib.util.spec_from_file_location(
    '_mmdcct_tests_tiny_dcct_vis',
    osp.join(osp.dirname(osp.dirname(__file__)), 'test_apis', '_tiny_dcct.py'))
_tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tiny)


@pytest.fixture(scope='session')
def tiny_dcct(tmp_path_factory, synthetic_mars):
    """``config`` / ``checkpoint`` / ``data_root`` of a tiny trained DCCT."""
    return _tiny.tiny_dcct(tmp_path_factory, synthetic_mars)


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
