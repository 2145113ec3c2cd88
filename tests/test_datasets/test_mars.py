"""Tests of ``BaseVideoReIDDataset`` and ``MARS`` on a synthetic MARS tree."""
import os
import os.path as osp
import random
import shutil

import mmengine.registry
import numpy as np
import pytest
from scipy.io import loadmat, savemat

from mmdcct.datasets import (MARS, BaseVideoReIDDataset, parse_mars_name,
                             sort_frames_by_number)
from mmdcct.registry import DATASETS


def _frame_no(path):
    return parse_mars_name(osp.basename(path))['frame']


def _expected(summary):
    """Expected (tracklet rows) per split from the generator's records."""
    test = summary['test_tracks']
    query = list(summary['query_idx'])
    qset = set(query)
    gallery = [
        r for r, t in enumerate(test) if r not in qset and t['kind'] != 'junk'
    ]
    return query, gallery


@pytest.fixture
def mars_copy(synthetic_mars_root, tmp_path):
    """A private copy of the synthetic tree that a test may modify."""
    root = tmp_path / 'MARS'
    shutil.copytree(synthetic_mars_root, root)
    return str(root)


def test_train_split(synthetic_mars, synthetic_mars_root):
    ds = MARS(data_root=synthetic_mars_root, split='train')
    tracks = synthetic_mars['train_tracks']
    assert len(ds) == len(tracks)
    assert not ds.test_mode
    raw_ids = sorted({t['pid'] for t in tracks})
    assert raw_ids == synthetic_mars['train_pids']
    assert ds.metainfo['num_pids'] == len(raw_ids)
    assert ds.metainfo['num_tracklets'] == len(tracks)
    assert ds.metainfo['dataset_name'] == 'MARS'
    pids = set()
    for i, track in enumerate(tracks):
        info = ds.get_data_info(i)
        assert isinstance(info['pid'], int)
        assert isinstance(info['camid'], int)
        # relabelled in the order of the sorted raw ids
        assert info['raw_pid'] == track['pid']
        assert info['pid'] == raw_ids.index(track['pid'])
        assert info['camid'] == track['cam'] - 1
        assert info['is_query'] is False and info['is_gallery'] is False
        assert info['tracklet_id'] == i
        assert info['num_frames'] == len(track['names'])
        assert [osp.basename(p) for p in info['img_paths']] == track['names']
        assert all(
            p.startswith(osp.join(synthetic_mars_root, 'bbox_train'))
            for p in info['img_paths'])
        assert osp.isfile(info['img_paths'][0])
        pids.add(info['pid'])
    assert pids == set(range(len(raw_ids)))
    np.testing.assert_array_equal(ds.get_pids(),
                                  [raw_ids.index(t['pid']) for t in tracks])
    np.testing.assert_array_equal(ds.get_camids(),
                                  [t['cam'] - 1 for t in tracks])
    assert ds.get_cat_ids(0) == [raw_ids.index(tracks[0]['pid'])]


@pytest.mark.parametrize('include', [True, False])
def test_query_gallery_splits(synthetic_mars, synthetic_mars_root, include):
    test = synthetic_mars['test_tracks']
    query_rows, gallery_rows = _expected(synthetic_mars)
    query = MARS(
        data_root=synthetic_mars_root,
        split='query',
        gallery_includes_query=include)
    gallery = MARS(
        data_root=synthetic_mars_root,
        split='gallery',
        gallery_includes_query=include)
    assert query.test_mode and gallery.test_mode

    q_infos = [query.get_data_info(i) for i in range(len(query))]
    g_infos = [gallery.get_data_info(i) for i in range(len(gallery))]
    assert [i['tracklet_id'] for i in q_infos] == query_rows
    expected_gallery = gallery_rows + (query_rows if include else [])
    assert sorted(i['tracklet_id'] for i in g_infos) == \
        sorted(expected_gallery)
    assert len(g_infos) == len(expected_gallery)

    for info in q_infos:
        assert info['is_query'] is True and info['is_gallery'] is False
        row = test[info['tracklet_id']]
        assert info['pid'] == info['raw_pid'] == row['pid'] > 0
        assert info['camid'] == row['cam'] - 1
    for info in g_infos:
        assert info['is_query'] is False and info['is_gallery'] is True
        row = test[info['tracklet_id']]
        assert info['pid'] == row['pid'] and info['camid'] == row['cam'] - 1
        assert [osp.basename(p) for p in info['img_paths']] == row['names']
        assert info['img_paths'][0].startswith(
            osp.join(synthetic_mars_root, 'bbox_test'))

    # junk is dropped, distractors are kept in the gallery only
    assert all(i['pid'] != -1 for i in q_infos + g_infos)
    assert all(i['pid'] != 0 for i in q_infos)
    n_distractors = sum(i['pid'] == 0 for i in g_infos)
    assert n_distractors == synthetic_mars['num_distractor_tracklets'] > 0
    assert synthetic_mars['num_junk_tracklets'] > 0
    # exactly one query per (identity, camera)
    pairs = [(i['pid'], i['camid']) for i in q_infos]
    assert len(pairs) == len(set(pairs))
    assert query.metainfo['num_pids'] == synthetic_mars['num_test_ids']


@pytest.mark.parametrize('include', [True, False])
def test_test_split(synthetic_mars, synthetic_mars_root, include):
    query_rows, gallery_rows = _expected(synthetic_mars)
    ds = MARS(
        data_root=synthetic_mars_root,
        split='test',
        gallery_includes_query=include)
    assert ds.test_mode
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    ids = [i['tracklet_id'] for i in infos]
    assert len(ids) == len(set(ids))  # every tracklet once
    assert sorted(ids) == sorted(query_rows + gallery_rows)
    for info in infos:
        if info['tracklet_id'] in query_rows:
            assert info['is_query'] is True
            assert info['is_gallery'] is include
        else:
            assert info['is_query'] is False
            assert info['is_gallery'] is True
        assert info['pid'] != -1
        assert info['sample_idx'] == infos.index(info)
    meta = ds.metainfo
    assert meta['num_query_tracklets'] == len(query_rows)
    assert meta['num_gallery_tracklets'] == len(gallery_rows) + (
        len(query_rows) if include else 0)
    assert meta['gallery_includes_query'] is include
    assert meta['num_cams'] == synthetic_mars['num_cams']


def test_query_only_identities(synthetic_mars, synthetic_mars_root):
    """Some queries only have cross-camera matches among the queries."""
    ds = MARS(data_root=synthetic_mars_root, split='test')
    infos = [ds.get_data_info(i) for i in range(len(ds))]

    def has_match(q, gallery):
        return any(g['pid'] == q['pid'] and g['camid'] != q['camid']
                   for g in gallery)

    queries = [i for i in infos if i['is_query']]
    gallery_with = [i for i in infos if i['is_gallery']]
    gallery_without = [i for i in infos if not i['is_query']]
    without = sum(not has_match(q, gallery_without) for q in queries)
    assert without == synthetic_mars['num_queries_without_gallery_match'] > 0
    assert all(has_match(q, gallery_with) for q in queries)


def test_frames_sorted_when_name_list_is_shuffled(synthetic_mars, mars_copy):
    rng = random.Random(0)
    for subset in ('train', 'test'):
        name_file = osp.join(mars_copy, 'info', f'{subset}_name.txt')
        names = open(name_file).read().split()
        key = f'track_{subset}_info'
        table = loadmat(
            osp.join(mars_copy, 'info', f'tracks_{subset}_info.mat'))[key]
        for start, end, _, _ in table.astype(int):
            chunk = names[start - 1:end]
            rng.shuffle(chunk)
            names[start - 1:end] = chunk
        with open(name_file, 'w') as f:
            f.write('\n'.join(names) + '\n')
    for split, tracks in (('train', synthetic_mars['train_tracks']),
                          ('test', synthetic_mars['test_tracks'])):
        ds = MARS(data_root=mars_copy, split=split)
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            frames = [_frame_no(p) for p in info['img_paths']]
            assert frames == list(range(1, len(frames) + 1))
            names = tracks[info['tracklet_id']]['names']
            assert [osp.basename(p) for p in info['img_paths']] == names


@pytest.mark.parametrize('missing,split', [
    ('info/tracks_test_info.mat', 'test'),
    ('info/tracks_test_info.mat', 'query'),
    ('info/query_IDX.mat', 'gallery'),
    ('info/train_name.txt', 'train'),
    ('bbox_train', 'train'),
])
def test_missing_file(mars_copy, missing, split):
    path = osp.join(mars_copy, missing)
    if osp.isdir(path):
        shutil.rmtree(path)
    else:
        os.remove(path)
    with pytest.raises(FileNotFoundError) as exc:
        MARS(data_root=mars_copy, split=split)
    assert path in str(exc.value)
    assert 'Expected layout' in str(exc.value)


def test_missing_data_root(tmp_path):
    root = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        MARS(data_root=root)
    # lazy_init defers the check to the first access
    ds = MARS(data_root=root, lazy_init=True)
    with pytest.raises(FileNotFoundError):
        len(ds)


def _edit_table(root, subset, row, col, value):
    path = osp.join(root, 'info', f'tracks_{subset}_info.mat')
    key = f'track_{subset}_info'
    table = loadmat(path)[key]
    table[row, col] = value
    savemat(path, {key: table})
    return path


@pytest.mark.parametrize('col', [2, 3])
def test_name_table_disagreement(synthetic_mars, mars_copy, col):
    rows = [
        r for r, t in enumerate(synthetic_mars['test_tracks'])
        if t['kind'] == 'person'
    ]
    row = rows[len(rows) // 2]
    track = synthetic_mars['test_tracks'][row]
    wrong = track['pid'] + 1 if col == 2 else track['cam'] % 3 + 1
    path = _edit_table(mars_copy, 'test', row, col, wrong)
    with pytest.raises(ValueError) as exc:
        MARS(data_root=mars_copy, split='test')
    assert path in str(exc.value)
    assert f'row {row + 1}' in str(exc.value)


def test_bad_indices(mars_copy):
    _edit_table(mars_copy, 'train', 0, 1, 10**7)
    with pytest.raises(ValueError, match='out of'):
        MARS(data_root=mars_copy, split='train')
    savemat(
        osp.join(mars_copy, 'info', 'query_IDX.mat'),
        {'query_IDX': np.array([[1, 10**6]])})
    with pytest.raises(ValueError, match='query indices'):
        MARS(data_root=mars_copy, split='query')
    savemat(osp.join(mars_copy, 'info', 'query_IDX.mat'), {'wrong': 1})
    with pytest.raises(ValueError, match='query_IDX'):
        MARS(data_root=mars_copy, split='query')


def test_registry_and_options(synthetic_mars, synthetic_mars_root):
    ds = DATASETS.build(
        dict(type='MARS', data_root=synthetic_mars_root, split='query'))
    assert isinstance(ds, MARS) and isinstance(ds, BaseVideoReIDDataset)
    ds = DATASETS.build(
        dict(type='mmdcct.MARS', data_root=synthetic_mars_root))
    assert len(ds) == synthetic_mars['num_train_tracklets']
    # from MMEngine's root registry, as another OpenMMLab project would
    ds = mmengine.registry.DATASETS.build(
        dict(type='mmdcct.MARS', data_root=synthetic_mars_root))
    assert isinstance(ds, MARS)

    with pytest.raises(ValueError, match='split'):
        MARS(data_root=synthetic_mars_root, split='val')

    ds = MARS(
        data_root=synthetic_mars_root,
        split='train',
        test_mode=True,
        lazy_init=True,
        serialize_data=False,
        indices=3)
    assert ds.test_mode and not ds._fully_initialized
    assert len(ds) == 3
    assert 'MARS' in repr(ds)

    def pipeline(results):
        results['n'] = len(results['img_paths'])
        return results

    ds = MARS(
        data_root=synthetic_mars_root, split='gallery', pipeline=[pipeline])
    item = ds[0]
    assert item['n'] == item['num_frames'] and item['sample_idx'] == 0


def test_helpers():
    assert parse_mars_name('00-1C2T0003F010.jpg') == dict(
        pid=-1, cam=2, tracklet=3, frame=10)
    assert parse_mars_name('/a/0000C6T0001F001.jpg')['pid'] == 0
    with pytest.raises(ValueError):
        parse_mars_name('cam1_person001_00001.png')
    paths = [
        'x/0001C1T0001F010.jpg', 'x/0001C1T0001F009.jpg',
        'x/0001C1T0001F100.jpg'
    ]
    assert sort_frames_by_number(paths) == [paths[1], paths[0], paths[2]]
    assert sort_frames_by_number(['a/img_12.png', 'a/img_2.png'
                                  ]) == ['a/img_2.png', 'a/img_12.png']
    with pytest.raises(ValueError):
        sort_frames_by_number(['a/nonumber.png'])


def test_unknown_camera(synthetic_mars, mars_copy):
    """A MARS camera outside 1..6 is a clear error naming the image."""
    name_file = osp.join(mars_copy, 'info', 'train_name.txt')
    names = open(name_file).read().split()
    bad = names[0][:5] + '7' + names[0][6:]
    names[0] = bad
    with open(name_file, 'w') as f:
        f.write('\n'.join(names) + '\n')
    with pytest.raises(ValueError) as exc:
        MARS(data_root=mars_copy, split='train')
    msg = str(exc.value)
    assert bad in msg and name_file in msg
    assert 'unknown camera C7' in msg and 'C1..C6' in msg


def test_non_utf8_byte_in_name_list(mars_copy):
    path = osp.join(mars_copy, 'info', 'train_name.txt')
    with open(path, 'rb') as f:
        lines = f.read().splitlines(keepends=True)
    offset = len(lines[0]) + len(lines[1]) + 4  # 5th byte of line 3
    lines[2] = lines[2][:4] + b'\xff' + lines[2][5:]
    with open(path, 'wb') as f:
        f.write(b''.join(lines))
    with pytest.raises(ValueError) as exc:
        MARS(data_root=mars_copy, split='train')
    msg = str(exc.value)
    assert msg.startswith(f'{path}, line 3: the byte 0xff at byte offset '
                          f'{offset} of the file (column 5 of the line) '
                          'is not UTF-8')
    assert 're-download' in msg
    assert not isinstance(exc.value, UnicodeDecodeError)


def test_name_list_with_byte_order_mark(synthetic_mars, mars_copy):
    path = osp.join(mars_copy, 'info', 'train_name.txt')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(b'\xef\xbb\xbf' + data.replace(b'\n', b'\r\n'))
    ds = MARS(data_root=mars_copy, split='train')
    assert len(ds) == len(synthetic_mars['train_tracks'])


@pytest.mark.parametrize('subset,split', [('test', 'test'),
                                          ('train', 'train')])
def test_duplicated_track_row(mars_copy, subset, split):
    path = osp.join(mars_copy, 'info', f'tracks_{subset}_info.mat')
    key = f'track_{subset}_info'
    table = loadmat(path)[key]
    # appended at the end, so query_IDX.mat still points at the same rows
    dup = np.concatenate([table, table[2:3]])
    savemat(path, {key: dup})
    with pytest.raises(ValueError) as exc:
        MARS(data_root=mars_copy, split=split)
    start, end, pid, cam = table[2, :4].astype(int).tolist()
    msg = str(exc.value)
    assert msg.startswith(f'{path}: 1 duplicated tracklet row(s)')
    assert (f'row {len(table) + 1} repeats row 3 '
            f'({start}, {end}, {pid}, {cam})') in msg
    assert 'restore the official file' in msg


@pytest.mark.parametrize('entry', ['bbox_train', 'info/train_name.txt'])
def test_required_entry_of_wrong_kind(mars_copy, entry):
    path = osp.join(mars_copy, entry)
    if osp.isdir(path):
        shutil.rmtree(path)
        open(path, 'w').close()
        expected = NotADirectoryError, 'is a file, not a directory'
    else:
        os.remove(path)
        os.mkdir(path)
        expected = IsADirectoryError, 'is a directory, not a file'
    with pytest.raises(expected[0]) as exc:
        MARS(data_root=mars_copy, split='train')
    assert f'"{path}"' in str(exc.value) and expected[1] in str(exc.value)
