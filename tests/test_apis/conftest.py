"""Fixtures of the API tests: a tiny trained DCCT checkpoint and tracklet
folders cut from the synthetic MARS fixture."""
import importlib.util
import os
import os.path as osp
import shutil

import pytest

_spec = importlib.util.spec_from_file_location(
    '_mmdcct_tests_tiny_dcct',
    osp.join(osp.dirname(__file__), '_tiny_dcct.py'))
_tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tiny)


@pytest.fixture(scope='session')
def tiny_dcct(tmp_path_factory, synthetic_mars):
    """``config`` / ``checkpoint`` / ``data_root`` of a tiny trained DCCT."""
    return _tiny.tiny_dcct(tmp_path_factory, synthetic_mars)


def tracklet_folder_name(track: dict) -> str:
    """MARS-style folder name ``0088C1T0001`` of a summary track."""
    pid = '00-1' if track['pid'] == -1 else f'{track["pid"]:04d}'
    return f'{pid}C{track["cam"]}T{track["tracklet"]:04d}'


@pytest.fixture(scope='session')
def tracklet_folders(tmp_path_factory, synthetic_mars):
    """One folder per (non-junk) test tracklet, split into ``query/`` and
    ``gallery/``; returns ``root``, ``query`` and ``gallery`` (lists of
    folders) and ``tracks`` (folder -> summary track)."""
    root = str(tmp_path_factory.mktemp('tracklets'))
    src_root = osp.join(synthetic_mars['out_dir'], 'bbox_test')
    out = dict(root=root, query=[], gallery=[], tracks={})
    for track in synthetic_mars['test_tracks']:
        if track['kind'] == 'junk':
            continue
        role = 'query' if track['is_query'] else 'gallery'
        dst = osp.join(root, role, tracklet_folder_name(track))
        os.makedirs(dst)
        pid_dir = osp.join(src_root, track['names'][0][:4])
        for name in track['names']:
            shutil.copy(osp.join(pid_dir, name), dst)
        out[role].append(dst)
        out['tracks'][dst] = track
    out['query'].sort()
    out['gallery'].sort()
    return out
