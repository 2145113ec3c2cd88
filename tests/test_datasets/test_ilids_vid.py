"""Tests of ``iLIDSVID`` on a synthetic iLIDS-VID tree."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from scipy.io import savemat

from mmdcct.datasets import generate_ilidsvid_ls_set, iLIDSVID
from mmdcct.registry import DATASETS
from mmdcct.testing import make_synthetic_ilids_vid

SPLIT_FILE = osp.join('train-test people splits',
                      'train_test_splits_ilidsvid.mat')


def _build(root, split, **kwargs):
    # serialize_data=False skips MMEngine's gc.collect() (~0.3 s per build)
    kwargs.setdefault('serialize_data', False)
    return DATASETS.build(
        dict(type='iLIDSVID', data_root=root, split=split, **kwargs))


def _infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def _expected_split(summary, split_id):
    persons = summary['persons']
    row = summary['ls_set'][split_id]
    half = len(persons) // 2
    test = sorted(persons[i - 1] for i in row[:half])
    train = sorted(persons[i - 1] for i in row[half:])
    return train, test


@pytest.fixture
def ilids_copy(synthetic_ilids_vid, tmp_path):
    root = tmp_path / 'ilids'
    shutil.copytree(synthetic_ilids_vid['out_dir'], root)
    return str(root)


def _check(infos, summary, persons, cams, root):
    expected = [(p, c) for p in persons for c in cams]
    got = [(f'person{i["raw_pid"]:03d}', i['camid'] + 1) for i in infos]
    assert got == expected
    for info, (person, cam) in zip(infos, expected):
        assert [osp.basename(p) for p in info['img_paths']] == \
            summary['tracks'][(person, cam)]
        assert osp.dirname(info['img_paths'][0]) == osp.join(
            root, 'i-LIDS-VID', 'sequences', f'cam{cam}', person)
        index = summary['persons'].index(person)
        assert info['tracklet_id'] == 2 * index + cam - 1


@pytest.mark.parametrize('split_id', [0, 7])
def test_splits_follow_ls_set(synthetic_ilids_vid, split_id):
    summary = synthetic_ilids_vid
    root = summary['out_dir']
    train, test = _expected_split(summary, split_id)
    assert len(train) == len(test) == 5
    ds = _build(root, 'train', split_id=split_id)
    assert isinstance(ds, iLIDSVID)
    infos = _infos(ds)
    _check(infos, summary, train, (1, 2), root)
    raw = sorted({i['raw_pid'] for i in infos})
    assert [i['pid']
            for i in infos] == [raw.index(i['raw_pid']) for i in infos]
    assert sorted({i['pid'] for i in infos}) == list(range(5))
    q = _infos(_build(root, 'query', split_id=split_id))
    g = _infos(_build(root, 'gallery', split_id=split_id))
    _check(q, summary, test, (1, ), root)
    _check(g, summary, test, (2, ), root)
    assert all(i['pid'] == i['raw_pid'] for i in q + g)
    ds = _build(root, 'test', split_id=split_id)
    assert len(ds) == 10 and ds.metainfo['split_id'] == split_id
    assert ds.metainfo['split_source'] == 'file'
    assert ds.metainfo['dataset_name'] == 'iLIDS-VID'
    assert sum(i['is_query'] for i in _infos(ds)) == 5
    assert sum(i['is_gallery'] for i in _infos(ds)) == 5


def test_unpadded_frames_sorted_numerically(tmp_path):
    summary = make_synthetic_ilids_vid(
        str(tmp_path / 'i'),
        num_persons=4,
        tracklet_len=(10, 14),
        img_size=(32, 16),
        zero_pad=False,
        seed=3)
    ds = _build(summary['out_dir'], 'train')
    for info in _infos(ds):
        frames = [
            int(osp.splitext(p)[0].rsplit('_', 1)[1])
            for p in info['img_paths']
        ]
        assert frames == list(range(frames[0], frames[0] + len(frames)))


def test_missing_split_file_is_generated_in_memory(ilids_copy,
                                                   mmlogger_messages):
    path = osp.join(ilids_copy, SPLIT_FILE)
    os.remove(path)
    ds = _build(ilids_copy, 'test', split_id=2, split_seed=5)
    assert ds.metainfo['split_source'] == 'generated'
    warnings = [m for m in mmlogger_messages if m.startswith('WARNING')]
    assert len(warnings) == 1
    assert path in warnings[0] and 'split_seed=5' in warnings[0]
    assert 'generated 10 random splits' in warnings[0]
    assert 'nothing was written' in warnings[0]
    assert not osp.exists(path)  # kept in memory, never written
    # reproducible: the documented generator, same seed -> same split
    persons = sorted(
        os.listdir(osp.join(ilids_copy, 'i-LIDS-VID', 'sequences', 'cam1')))
    row = generate_ilidsvid_ls_set(len(persons), 10, seed=5)[2]
    test = sorted(persons[i - 1] for i in row[:5])
    got = sorted(f'person{i["raw_pid"]:03d}' for i in _infos(ds)
                 if i['is_query'])
    assert got == test
    again = _build(ilids_copy, 'test', split_id=2, split_seed=5)
    assert [i['img_paths'] for i in _infos(again)] == \
        [i['img_paths'] for i in _infos(ds)]
    other = _build(ilids_copy, 'test', split_id=2, split_seed=6)
    assert {i['raw_pid'] for i in _infos(other)} != \
        {i['raw_pid'] for i in _infos(ds)}


def test_generator_is_fixed():
    ls_set = generate_ilidsvid_ls_set(6, 3, seed=0)
    assert ls_set.shape == (3, 6) and ls_set.dtype == np.int64
    assert all(sorted(row) == list(range(1, 7)) for row in ls_set.tolist())
    assert np.array_equal(ls_set, generate_ilidsvid_ls_set(6, 3, seed=0))


def test_split_id_out_of_range(synthetic_ilids_vid):
    root = synthetic_ilids_vid['out_dir']
    with pytest.raises(ValueError) as exc:
        _build(root, 'train', split_id=10)
    msg = str(exc.value)
    assert 'split_id=10 is out of range' in msg
    assert 'holds 10 splits (split_id 0..9)' in msg
    assert SPLIT_FILE in msg
    with pytest.raises(ValueError, match='split_id must be a non-negative'):
        _build(root, 'train', split_id=-1)
    with pytest.raises(ValueError, match='split_id must be a non-negative'):
        _build(root, 'train', split_id='3')


def test_missing_data_root_and_camera(tmp_path, ilids_copy):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError) as exc:
        _build(missing, 'train')
    assert missing in str(exc.value)
    assert 'cam1/personNNN/cam1_personNNN_<frame>.png' in str(exc.value)
    cam2 = osp.join(ilids_copy, 'i-LIDS-VID', 'sequences', 'cam2')
    shutil.rmtree(cam2)
    with pytest.raises(FileNotFoundError) as exc:
        _build(ilids_copy, 'query')
    assert cam2 in str(exc.value) and 'Expected layout' in str(exc.value)


def test_explicit_split_file_must_exist(synthetic_ilids_vid):
    with pytest.raises(FileNotFoundError, match='my_splits.mat'):
        _build(
            synthetic_ilids_vid['out_dir'],
            'train',
            split_file='my_splits.mat')


def test_bad_split_file(ilids_copy):
    path = osp.join(ilids_copy, SPLIT_FILE)
    savemat(path, {'ls_set': np.ones((10, 7))})
    with pytest.raises(ValueError) as exc:
        _build(ilids_copy, 'train')
    assert path in str(exc.value) and '(num_splits, 10)' in str(exc.value)
    savemat(path, {'ls_set': np.ones((10, 10))})
    with pytest.raises(ValueError, match='permutation') as exc:
        _build(ilids_copy, 'train')
    assert path in str(exc.value)
    savemat(path, {'other': np.ones(3)})
    with pytest.raises(ValueError, match='no key "ls_set"') as exc:
        _build(ilids_copy, 'train')
    assert path in str(exc.value)


def test_cameras_with_different_persons(synthetic_ilids_vid, ilids_copy):
    person = synthetic_ilids_vid['persons'][3]
    shutil.rmtree(
        osp.join(ilids_copy, 'i-LIDS-VID', 'sequences', 'cam2', person))
    with pytest.raises(ValueError, match='same persons') as exc:
        _build(ilids_copy, 'train')
    assert person in str(exc.value)


def test_empty_person_folder_skipped(synthetic_ilids_vid, ilids_copy,
                                     mmlogger_messages):
    train, _ = _expected_split(synthetic_ilids_vid, 0)
    folder = osp.join(ilids_copy, 'i-LIDS-VID', 'sequences', 'cam2', train[1])
    for name in os.listdir(folder):
        os.remove(osp.join(folder, name))
    ds = _build(ilids_copy, 'train')
    assert len(ds) == 9
    assert any(
        folder in m and 'empty tracklet' in m and m.startswith('WARNING')
        for m in mmlogger_messages)
