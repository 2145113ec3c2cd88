"""Fixtures of the API tests: tracklet folders cut from the synthetic MARS
fixture (the tiny trained DCCT checkpoint is tests/conftest.py's)."""
import os
import os.path as osp
import shutil

import pytest

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
