"""Tests of the synthetic DukeMTMC-VideoReID, iLIDS-VID, PRID-2011 and
LS-VID writers."""
import builtins
import os
import os.path as osp

import cv2
import pytest
from scipy.io import loadmat

from mmdcct.testing import (make_synthetic_duke_video,
                            make_synthetic_ilids_vid, make_synthetic_ls_vid,
                            make_synthetic_prid2011)
from mmdcct.testing import synthetic_datasets

WRITERS = {
    'duke': (make_synthetic_duke_video,
             dict(
                 num_train_ids=2,
                 num_test_ids=2,
                 num_distractor_ids=1,
                 tracklet_len=(3, 6))),
    'ilids': (make_synthetic_ilids_vid,
              dict(num_persons=4, tracklet_len=(3, 6), num_splits=3)),
    'prid': (make_synthetic_prid2011,
             dict(
                 num_persons=4,
                 num_short=1,
                 num_only_a=1,
                 num_only_b=1,
                 tracklet_len=(21, 22),
                 short_len=(2, 4),
                 num_splits=3)),
    'ls_vid': (make_synthetic_ls_vid,
               dict(
                   num_train_ids=2,
                   num_test_ids=2,
                   num_distractor_ids=1,
                   num_junk=1,
                   tracklet_len=(3, 6))),
}


def _read_tree(root):
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                files[osp.relpath(path, root)] = f.read()
    return files


@pytest.mark.parametrize('layout', sorted(WRITERS))
def test_deterministic_and_overwrite(tmp_path, layout):
    fn, kwargs = WRITERS[layout]
    a = fn(str(tmp_path / 'a'), img_size=(32, 16), seed=4, **kwargs)
    b = fn(str(tmp_path / 'b'), img_size=(32, 16), seed=4, **kwargs)
    tree_a, tree_b = _read_tree(a['out_dir']), _read_tree(b['out_dir'])
    assert tree_a == tree_b and len(tree_a) > a['num_images'] - 1
    c = fn(str(tmp_path / 'c'), img_size=(32, 16), seed=5, **kwargs)
    assert _read_tree(c['out_dir']) != tree_a
    with pytest.raises(FileExistsError):
        fn(a['out_dir'], img_size=(32, 16), seed=4, **kwargs)
    fn(a['out_dir'], img_size=(32, 16), seed=4, overwrite=True, **kwargs)
    assert _read_tree(a['out_dir']) == tree_a
    img_path = [p for p in tree_a if p.endswith(('.jpg', '.png'))][0]
    img = cv2.imread(osp.join(a['out_dir'], img_path))
    assert img.shape == (32, 16, 3)


def test_frames_written_in_shuffled_order(tmp_path, monkeypatch):
    opened = []
    real_open = builtins.open

    def recording_open(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(
        synthetic_datasets, 'open', recording_open, raising=False)
    summary = make_synthetic_ilids_vid(
        str(tmp_path / 'i'),
        num_persons=2,
        tracklet_len=(6, 6),
        img_size=(32, 16),
        write_split_file=False)
    frames = [p for p in opened if p.endswith('.png')]
    assert len(frames) == summary['num_images'] == 24
    in_order = [
        osp.join(summary['out_dir'], 'i-LIDS-VID', 'sequences', f'cam{c}',
                 person, name)
        for (person, c), names in sorted(summary['tracks'].items())
        for name in names
    ]
    assert sorted(frames) == sorted(in_order) and frames != in_order
    assert not osp.exists(
        osp.join(summary['out_dir'], 'train-test people splits'))


def test_layout_contents(tmp_path):
    duke = make_synthetic_duke_video(
        str(tmp_path / 'd'), img_size=(32, 16), **WRITERS['duke'][1])
    for subset in ('train', 'query', 'gallery'):
        assert osp.isdir(
            osp.join(duke['out_dir'], 'DukeMTMC-VideoReID', subset))
    assert len(duke['tracks']['query']) == 2  # one per test identity
    ilids = make_synthetic_ilids_vid(
        str(tmp_path / 'i'), img_size=(32, 16), **WRITERS['ilids'][1])
    mat = loadmat(
        osp.join(ilids['out_dir'], 'train-test people splits',
                 'train_test_splits_ilidsvid.mat'))['ls_set']
    assert mat.shape == (3, 4) and (mat == ilids['ls_set']).all()
    prid = make_synthetic_prid2011(
        str(tmp_path / 'p'), img_size=(32, 16), **WRITERS['prid'][1])
    assert len(prid['eligible']) == 3
    assert all(
        len(s['test']) == 1 and len(s['train']) == 2 for s in prid['splits'])
    assert len(prid['persons_a']) == 5 and len(prid['persons_b']) == 5


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='num_cams'):
        make_synthetic_duke_video(str(tmp_path / 'x'), num_cams=9)
    with pytest.raises(ValueError, match='num_persons'):
        make_synthetic_ilids_vid(str(tmp_path / 'x'), num_persons=1)
    with pytest.raises(ValueError, match='min_frames'):
        make_synthetic_prid2011(str(tmp_path / 'x'), tracklet_len=(5, 30))
    with pytest.raises(ValueError, match='img_size'):
        make_synthetic_ilids_vid(str(tmp_path / 'x'), img_size=(8, 4))
    with pytest.raises(ValueError, match='num_cams'):
        make_synthetic_ls_vid(str(tmp_path / 'x'), num_cams=16)
    with pytest.raises(ValueError, match='query_shape'):
        make_synthetic_ls_vid(str(tmp_path / 'x'), query_shape='flat')
