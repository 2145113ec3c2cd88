"""Tests of the synthetic MARS generator."""
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest
from scipy.io import loadmat

from mmdcct.testing import make_synthetic_mars, mars_image_name

SMALL = dict(
    num_train_ids=3,
    num_test_ids=4,
    num_cams=3,
    tracklet_len=(2, 9),
    img_size=(32, 16))


def _read_tree(root):
    files = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                files[osp.relpath(path, root)] = f.read()
    return files


def test_layout(synthetic_mars, synthetic_mars_root):
    info = osp.join(synthetic_mars_root, 'info')
    assert sorted(os.listdir(info)) == [
        'query_IDX.mat', 'test_name.txt', 'tracks_test_info.mat',
        'tracks_train_info.mat', 'train_name.txt'
    ]
    for subset in ('train', 'test'):
        names = open(osp.join(info, f'{subset}_name.txt')).read().split()
        table = loadmat(osp.join(
            info, f'tracks_{subset}_info.mat'))[f'track_{subset}_info']
        tracks = synthetic_mars[f'{subset}_tracks']
        assert table.shape == (len(tracks), 4)
        assert len(names) == sum(len(t['names']) for t in tracks)
        for (start, end, pid, cam), t in zip(table.astype(int), tracks):
            assert names[start - 1:end] == t['names']
            assert (pid, cam) == (t['pid'], t['cam'])
            for name in t['names']:
                path = osp.join(synthetic_mars_root, f'bbox_{subset}',
                                name[:4], name)
                assert osp.isfile(path), path
    query = loadmat(osp.join(info, 'query_IDX.mat'))['query_IDX']
    assert query.ravel().astype(int).tolist() == [
        i + 1 for i in synthetic_mars['query_idx']
    ]
    img = cv2.imread(
        osp.join(synthetic_mars_root, 'bbox_train',
                 synthetic_mars['train_tracks'][0]['names'][0][:4],
                 synthetic_mars['train_tracks'][0]['names'][0]))
    assert img.shape == (64, 32, 3)
    assert osp.isdir(osp.join(synthetic_mars_root, 'bbox_test', '00-1'))
    assert osp.isdir(osp.join(synthetic_mars_root, 'bbox_test', '0000'))


def test_protocol_properties(synthetic_mars):
    test = synthetic_mars['test_tracks']
    train = synthetic_mars['train_tracks']
    assert set(synthetic_mars['train_pids']).isdisjoint(
        synthetic_mars['test_pids'])
    # every identity is seen by at least two cameras
    for tracks, pids in ((train, synthetic_mars['train_pids']),
                         (test, synthetic_mars['test_pids'])):
        for pid in pids:
            cams = {t['cam'] for t in tracks if t['pid'] == pid}
            assert len(cams) >= 2
    # one query per (identity, camera), people only
    queries = [test[r] for r in synthetic_mars['query_idx']]
    assert all(q['kind'] == 'person' and q['is_query'] for q in queries)
    pairs = {(t['pid'], t['cam']) for t in test if t['kind'] == 'person'}
    assert sorted((q['pid'], q['cam']) for q in queries) == sorted(pairs)
    assert sum(t['is_query'] for t in test) == len(queries)
    # identities seen only as queries
    only = [
        pid for pid in synthetic_mars['test_pids']
        if all(t['is_query'] for t in test if t['pid'] == pid)
    ]
    assert len(only) == synthetic_mars['num_query_only_ids'] >= 1
    # junk and distractors
    kinds = [t['kind'] for t in test]
    assert kinds.count('junk') == synthetic_mars['num_junk_tracklets'] >= 1
    assert kinds.count('distractor') == \
        synthetic_mars['num_distractor_tracklets'] >= 1
    assert all(t['pid'] == -1 for t in test if t['kind'] == 'junk')
    assert all(t['pid'] == 0 for t in test if t['kind'] == 'distractor')
    # short and long tracklets
    lengths = [len(t['names']) for t in train + test]
    assert min(lengths) < 8 <= max(lengths)
    assert synthetic_mars['num_images'] == sum(lengths)


def test_names():
    assert mars_image_name(1, 1, 1, 1) == '0001C1T0001F001.jpg'
    assert mars_image_name(-1, 6, 12, 100) == '00-1C6T0012F100.jpg'
    assert mars_image_name(0, 2, 3, 4) == '0000C2T0003F004.jpg'


def test_determinism(tmp_path):
    a = make_synthetic_mars(str(tmp_path / 'a'), seed=3, **SMALL)
    b = make_synthetic_mars(str(tmp_path / 'b'), seed=3, **SMALL)
    c = make_synthetic_mars(str(tmp_path / 'c'), seed=4, **SMALL)
    tree_a = _read_tree(tmp_path / 'a')
    tree_b = _read_tree(tmp_path / 'b')
    tree_c = _read_tree(tmp_path / 'c')
    assert tree_a == tree_b  # byte-identical, .mat files included
    assert a['train_tracks'] == b['train_tracks']
    assert tree_a != tree_c
    assert a['test_tracks'] != c['test_tracks']


def test_appearance_is_consistent_across_cameras(tmp_path):
    """A crude colour descriptor (mean normalised colour of the shirt and
    trousers) already finds the same person in another camera far above
    chance: clothes do not depend on the camera."""
    summary = make_synthetic_mars(
        str(tmp_path / 'm'),
        num_train_ids=20,
        num_test_ids=1,
        tracklet_len=(2, 3),
        img_size=(64, 32),
        junk_ratio=0,
        distractor_ratio=0,
        seed=0)

    def descriptor(track):
        imgs = [
            cv2.imread(
                osp.join(summary['out_dir'], 'bbox_train', name[:4],
                         name)).astype(np.float32) for name in track['names']
        ]
        img = np.mean(imgs, axis=0)
        img /= img.reshape(-1, 3).mean(0) + 1  # cancel the colour cast
        h, w = img.shape[:2]
        return np.concatenate([
            img[int(a * h):int(b * h), w // 3:2 * w // 3].reshape(-1,
                                                                  3).mean(0)
            for a, b in ((0.25, 0.5), (0.6, 0.8))
        ])

    tracks = summary['train_tracks']
    feats = np.stack([descriptor(t) for t in tracks])
    pids = np.array([t['pid'] for t in tracks])
    cams = np.array([t['cam'] for t in tracks])
    dist = np.linalg.norm(feats[:, None] - feats[None], axis=-1)
    # only other cameras count as matches; drop same (id, camera) pairs
    dist[(pids[:, None] == pids[None]) & (cams[:, None] == cams[None])] = \
        np.inf
    rank1 = np.mean(pids[dist.argmin(1)] == pids)
    assert rank1 > 0.3  # chance is about 0.05


def test_overwrite_and_arguments(tmp_path):
    root = str(tmp_path / 'x')
    make_synthetic_mars(root, **SMALL)
    with pytest.raises(FileExistsError):
        make_synthetic_mars(root, **SMALL)
    stale = osp.join(root, 'bbox_train', 'stale.jpg')
    open(stale, 'w').close()
    make_synthetic_mars(root, overwrite=True, **SMALL)
    assert not osp.exists(stale)
    with pytest.raises(ValueError):
        make_synthetic_mars(str(tmp_path / 'y'), num_cams=1)
    with pytest.raises(ValueError):
        make_synthetic_mars(str(tmp_path / 'y'), cams_per_id=(1, 2))


def test_cli(tmp_path, monkeypatch, capsys):
    script = osp.join(
        osp.dirname(__file__), '..', '..', 'tools', 'misc',
        'make_synthetic_mars.py')
    out = str(tmp_path / 'cli')
    monkeypatch.setattr(sys, 'argv', [
        script, out, '--num-train-ids', '2', '--num-test-ids', '3',
        '--num-cams', '2', '--height', '32', '--width', '16', '--tracklet-len',
        '2', '6', '--seed', '1'
    ])
    runpy.run_path(script, run_name='__main__')
    printed = capsys.readouterr().out
    assert '"num_train_ids": 2' in printed
    assert osp.isfile(osp.join(out, 'info', 'query_IDX.mat'))
    with pytest.raises(SystemExit):
        runpy.run_path(script, run_name='__main__')
