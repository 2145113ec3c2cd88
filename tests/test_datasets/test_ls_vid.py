"""Tests of ``LSVID`` on a synthetic LS-VID tree."""
import os
import os.path as osp
import shutil
import sys

import h5py
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmdcct.datasets import (LSVID, BaseVideoReIDDataset, parse_ls_vid_camera)
from mmdcct.registry import DATASETS
from mmdcct.testing import make_synthetic_ls_vid

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUERY_FILE = osp.join('test', 'data', 'info_test.mat')
TINY_LSVID_CFG = dict(
    num_train_ids=5,
    num_test_ids=5,
    num_distractor_ids=2,
    num_junk=2,
    cams_per_id=(2, 4),
    tracklet_len=(2, 8),
    img_size=(32, 16),
    seed=0)


@pytest.fixture(scope='module')
def synthetic_lsvid(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('synthetic_lsvid') / 'LS-VID'
    return make_synthetic_ls_vid(str(root), **TINY_LSVID_CFG)


@pytest.fixture
def lsvid_copy(synthetic_lsvid, tmp_path):
    root = tmp_path / 'LS-VID'
    shutil.copytree(synthetic_lsvid['out_dir'], root)
    return str(root)


def _build(root, split, **kwargs):
    kwargs.setdefault('serialize_data', False)
    return DATASETS.build(
        dict(type='LSVID', data_root=root, split=split, **kwargs))


def _infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def _check(infos, records, root):
    assert len(infos) == len(records)
    for info, rec in zip(infos, records):
        assert info['raw_pid'] == rec['pid']
        assert info['camid'] == rec['cam'] - 1
        assert info['img_paths'] == [
            osp.join(root, osp.dirname(rec['prefix']), n) for n in rec['names']
        ]
        assert info['num_frames'] == len(rec['names'])


def test_registered():
    assert DATASETS.get('LSVID') is LSVID
    assert issubclass(LSVID, BaseVideoReIDDataset)


def test_train_split(synthetic_lsvid):
    root = synthetic_lsvid['out_dir']
    ds = _build(root, 'train')
    assert isinstance(ds, LSVID) and not ds.test_mode
    infos = _infos(ds)
    _check(infos, synthetic_lsvid['tracks']['train'], root)
    raw = synthetic_lsvid['train_pids']
    assert all(i['pid'] == raw.index(i['raw_pid']) for i in infos)
    assert sorted({i['pid'] for i in infos}) == list(range(len(raw)))
    assert [i['tracklet_id'] for i in infos] == list(range(len(infos)))
    assert ds.metainfo['dataset_name'] == 'LS-VID'
    assert ds.metainfo['num_pids'] == len(raw)


def test_query_gallery_test_splits(synthetic_lsvid):
    root = synthetic_lsvid['out_dir']
    tracks = synthetic_lsvid['tracks']['test']
    q_rows = synthetic_lsvid['query_rows']
    query = _infos(_build(root, 'query'))
    gallery = _infos(_build(root, 'gallery'))
    _check(query, [tracks[r] for r in q_rows], root)
    g_rows = [
        r for r, t in enumerate(tracks) if r not in q_rows and t['pid'] != -1
    ]
    _check(gallery, [tracks[r] for r in g_rows], root)
    assert [i['tracklet_id'] for i in query] == q_rows
    assert [i['tracklet_id'] for i in gallery] == g_rows
    assert all(i['is_query'] and not i['is_gallery'] for i in query)
    assert all(i['is_gallery'] and not i['is_query'] for i in gallery)
    # some identities have several queries; distractors are gallery-only
    q_pids = [i['pid'] for i in query]
    assert sorted(set(q_pids)) == synthetic_lsvid['test_pids']
    assert len(q_pids) > len(set(q_pids))
    assert {i['pid']
            for i in gallery} == set(synthetic_lsvid['test_pids']) | set(
                synthetic_lsvid['distractor_pids'])
    for q in query:
        assert any(g['pid'] == q['pid'] and g['camid'] != q['camid']
                   for g in gallery)

    ds = _build(root, 'test')
    infos = _infos(ds)
    assert len(infos) == len(query) + len(gallery)
    assert sum(i['is_query'] for i in infos) == len(query)
    assert sum(i['is_gallery'] for i in infos) == len(gallery)
    assert not any(i['is_query'] and i['is_gallery'] for i in infos)
    assert ds.metainfo['gallery_includes_query'] is False
    with_q = _build(root, 'gallery', gallery_includes_query=True)
    assert len(with_q) == len(gallery) + len(query)


def test_junk_dropped(synthetic_lsvid):
    root = synthetic_lsvid['out_dir']
    tracks = synthetic_lsvid['tracks']['test']
    num_junk = sum(t['pid'] == -1 for t in tracks)
    assert num_junk == TINY_LSVID_CFG['num_junk']
    infos = _infos(_build(root, 'test'))
    assert len(infos) == len(tracks) - num_junk
    assert all(i['pid'] != -1 for i in infos)


def test_cameras_from_file_names(synthetic_lsvid, lsvid_copy):
    infos = _infos(_build(synthetic_lsvid['out_dir'], 'test')) + _infos(
        _build(synthetic_lsvid['out_dir'], 'train'))
    camids = {i['camid'] for i in infos}
    assert camids <= set(range(15)) and len(camids) > 8
    for info in infos:
        assert {parse_ls_vid_camera(p) - 1
                for p in info['img_paths']} == {info['camid']}
    assert parse_ls_vid_camera('/x/0012_01_0015_0003_00007.jpg') == 15
    with pytest.raises(ValueError, match='third'):
        parse_ls_vid_camera('0012C1T0001F001.jpg')

    # camera 16 and 0 do not exist; the list line and file are named
    rec = synthetic_lsvid['tracks']['train'][0]
    folder = osp.join(lsvid_copy, osp.dirname(rec['prefix']))
    for cam in ('0016', '0000'):
        for name in os.listdir(folder):
            if name.startswith(osp.basename(rec['prefix'])):
                fields = name.split('_')
                fields[2] = cam
                os.rename(
                    osp.join(folder, name), osp.join(folder, '_'.join(fields)))
        new_prefix = rec['prefix'].split('_')
        new_prefix[-3] = cam
        new_prefix = '_'.join(new_prefix)
        list_file = osp.join(lsvid_copy, 'list_sequence', 'list_seq_train.txt')
        with open(list_file) as f:
            text = f.read()
        with open(list_file, 'w') as f:
            f.write(text.replace(rec['prefix'] + ' ', new_prefix + ' '))
        rec = dict(rec, prefix=new_prefix)
        with pytest.raises(ValueError) as exc:
            _build(lsvid_copy, 'train')
        assert 'unknown camera' in str(exc.value)
        assert '1..15' in str(exc.value) and list_file in str(exc.value)


def test_frames_by_prefix_in_name_order(synthetic_lsvid, lsvid_copy,
                                        monkeypatch):
    # several tracklets share each folder; other files are ignored
    prefixes = [t['prefix'] for t in synthetic_lsvid['tracks']['train']]
    folders = {osp.dirname(p) for p in prefixes}
    assert len(folders) < len(prefixes)
    rec = synthetic_lsvid['tracks']['train'][0]
    folder = osp.join(lsvid_copy, osp.dirname(rec['prefix']))
    open(osp.join(folder, 'Thumbs.db'), 'w').close()
    open(osp.join(folder, '.' + rec['names'][0]), 'w').close()
    scanned = []
    real_scandir = os.scandir

    def counting_scandir(path):
        scanned.append(path)
        return real_scandir(path)

    monkeypatch.setattr(os, 'scandir', counting_scandir)
    infos = _infos(_build(lsvid_copy, 'train'))
    monkeypatch.undo()
    assert sorted(scanned) == sorted(osp.join(lsvid_copy, f)
                                     for f in folders)  # each folder once
    _check(infos, synthetic_lsvid['tracks']['train'], lsvid_copy)
    for info in infos:
        names = [osp.basename(p) for p in info['img_paths']]
        assert names == sorted(names)


def test_shared_prefix_warned(synthetic_lsvid, lsvid_copy, mmlogger_messages):
    list_file = osp.join(lsvid_copy, 'list_sequence', 'list_seq_train.txt')
    rec = synthetic_lsvid['tracks']['train'][0]
    with open(list_file, 'a') as f:  # listed twice
        f.write(f'{rec["prefix"]} {rec["pid"]}\n')
    ds = _build(lsvid_copy, 'train')
    assert len(ds) == len(synthetic_lsvid['tracks']['train']) + 1
    warnings = [m for m in mmlogger_messages if m.startswith('WARNING')]
    assert any('1 pair(s)' in m and 'share frames' in m and list_file in m
               for m in warnings)


@pytest.mark.parametrize('list_dir', [
    'list_sequence',
    osp.join('info', 'list_sequence'),
    'info',
])
@pytest.mark.parametrize('query_shape', ['row', 'column'])
def test_list_layouts_and_query_shapes(synthetic_lsvid, lsvid_copy, list_dir,
                                       query_shape):
    if list_dir != 'list_sequence':
        os.makedirs(osp.dirname(osp.join(lsvid_copy, list_dir)), exist_ok=True)
        shutil.move(
            osp.join(lsvid_copy, 'list_sequence'),
            osp.join(lsvid_copy, list_dir))
    q_rows = synthetic_lsvid['query_rows']
    path = osp.join(lsvid_copy, QUERY_FILE)
    with h5py.File(path, 'r+') as f:
        assert f['query'].shape == (1, len(q_rows))
        assert f['query'].dtype == np.float64
        if query_shape == 'column':
            values = f['query'][()].reshape(-1, 1)
            del f['query']
            f['query'] = values
    infos = _infos(_build(lsvid_copy, 'query'))
    assert [i['tracklet_id'] for i in infos] == q_rows
    assert len(_build(lsvid_copy,
                      'train')) == len(synthetic_lsvid['tracks']['train'])


def test_writer_layout_options(tmp_path):
    summary = make_synthetic_ls_vid(
        str(tmp_path / 'LS-VID'),
        num_train_ids=2,
        num_test_ids=2,
        num_distractor_ids=0,
        num_junk=0,
        num_cams=3,
        tracklet_len=(2, 3),
        img_size=(32, 16),
        list_dir=osp.join('info', 'list_sequence'),
        query_shape='column')
    root = summary['out_dir']
    assert osp.isfile(
        osp.join(root, 'info', 'list_sequence', 'list_seq_test.txt'))
    with open(osp.join(root, QUERY_FILE), 'rb') as f:
        assert f.read(19) == b'MATLAB 7.3 MAT-file'
    with h5py.File(osp.join(root, QUERY_FILE), 'r') as f:
        assert f['query'].shape == (len(summary['query_rows']), 1)
        assert f['query'].attrs['MATLAB_class'] == b'double'
    infos = _infos(_build(root, 'query'))
    assert [i['tracklet_id'] for i in infos] == summary['query_rows']


def test_queries_kept_in_file_order(lsvid_copy, synthetic_lsvid):
    q_rows = synthetic_lsvid['query_rows'][::-1]
    path = osp.join(lsvid_copy, QUERY_FILE)
    with h5py.File(path, 'r+') as f:
        f['query'][...] = np.array(q_rows, np.float64).reshape(1, -1) + 1
    infos = _infos(_build(lsvid_copy, 'query'))
    assert [i['tracklet_id'] for i in infos] == q_rows


def test_missing_files(tmp_path, lsvid_copy, synthetic_lsvid):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError) as exc:
        _build(missing, 'train')
    assert missing in str(exc.value) and 'Expected layout' in str(exc.value)

    os.remove(osp.join(lsvid_copy, QUERY_FILE))
    assert len(_build(lsvid_copy, 'train'))  # training needs no query file
    with pytest.raises(FileNotFoundError) as exc:
        _build(lsvid_copy, 'test')
    assert osp.join(lsvid_copy, QUERY_FILE) in str(exc.value)
    assert 'info_test.mat' in str(exc.value)

    os.remove(osp.join(lsvid_copy, 'list_sequence', 'list_seq_train.txt'))
    with pytest.raises(FileNotFoundError) as exc:
        _build(lsvid_copy, 'train')
    for candidate in ('list_sequence', osp.join('info', 'list_sequence')):
        assert osp.join(lsvid_copy, candidate,
                        'list_seq_train.txt') in str(exc.value)


def test_missing_frames(lsvid_copy, synthetic_lsvid):
    list_file = osp.join(lsvid_copy, 'list_sequence', 'list_seq_test.txt')
    rec = synthetic_lsvid['tracks']['test'][3]
    folder = osp.join(lsvid_copy, osp.dirname(rec['prefix']))
    for name in rec['names']:
        os.remove(osp.join(folder, name))
    with pytest.raises(FileNotFoundError) as exc:
        _build(lsvid_copy, 'gallery')
    msg = str(exc.value)
    assert f'{list_file}, line 4' in msg and rec['prefix'] in msg
    assert 'no frame' in msg
    shutil.rmtree(folder)
    with pytest.raises(FileNotFoundError) as exc:
        _build(lsvid_copy, 'gallery')
    assert folder in str(exc.value) and 'does not exist' in str(exc.value)


def test_bad_list_line(lsvid_copy):
    list_file = osp.join(lsvid_copy, 'list_sequence', 'list_seq_train.txt')
    with open(list_file, 'a') as f:
        f.write('\ntracklet_train/0001/0001_00_0001_0001_\n')
    with pytest.raises(ValueError) as exc:
        _build(lsvid_copy, 'train')
    assert list_file in str(exc.value)
    assert '<relative path prefix> <pid>' in str(exc.value)


@pytest.mark.parametrize('values,match', [
    (np.array([[1., 2.], [3., 4.]]), 'vector'),
    (np.array([[1.5, 2.]]), 'whole numbers'),
    (np.array([[1., 1.]]), 'duplicated'),
    (np.array([[0., 2.]]), 'must lie in 1..'),
    (np.array([[1., 1e6]]), 'must lie in 1..'),
])
def test_bad_query_file(lsvid_copy, values, match):
    path = osp.join(lsvid_copy, QUERY_FILE)
    with h5py.File(path, 'w') as f:
        f['query'] = values
    with pytest.raises(ValueError, match=match) as exc:
        _build(lsvid_copy, 'query')
    assert path in str(exc.value)


def test_query_file_not_hdf5_or_without_key(lsvid_copy):
    path = osp.join(lsvid_copy, QUERY_FILE)
    with h5py.File(path, 'w') as f:
        f['query_idx'] = np.ones((1, 2))
    with pytest.raises(ValueError, match='no dataset "query"') as exc:
        _build(lsvid_copy, 'query')
    assert path in str(exc.value) and 'query_idx' in str(exc.value)
    with open(path, 'wb') as f:
        f.write(b'MATLAB 5.0 MAT-file, not HDF5')
    with pytest.raises(ValueError, match='MATLAB v7.3') as exc:
        _build(lsvid_copy, 'query')
    assert path in str(exc.value)


def test_missing_h5py_names_the_extra(synthetic_lsvid, monkeypatch):
    root = synthetic_lsvid['out_dir']
    monkeypatch.setitem(sys.modules, 'h5py', None)  # import h5py fails
    assert len(_build(root,
                      'train')) == len(synthetic_lsvid['tracks']['train'])
    with pytest.raises(ImportError) as exc:
        _build(root, 'query')
    msg = str(exc.value)
    assert 'pip install h5py' in msg and 'pip install -e ".[lsvid]"' in msg
    assert osp.join(root, QUERY_FILE) in msg


def test_base_config_builds(synthetic_lsvid):
    root = synthetic_lsvid['out_dir']
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets', 'ls_vid.py'))
    assert cfg.dataset_type == 'LSVID' and cfg.num_frames == 8
    # the protocol is the dataset class's, not a value inherited from MARS
    assert 'gallery_includes_query' not in cfg.test_dataloader.dataset
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root,
        'train_dataloader.dataset.serialize_data': False,
        'test_dataloader.dataset.serialize_data': False,
    })
    init_default_scope('mmdcct')
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert train[0]['inputs'].shape == (8, 3, 256, 128)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert test.gallery_includes_query is False
    item = test[0]
    assert item['inputs'].shape == (8, 3, 256, 128)
    assert item['data_samples'].is_query
    dcct = Config.fromfile(
        osp.join(REPO, 'configs', 'dcct', 'dcct_r50-vit-b_2xb8-50e_ls-vid.py'))
    assert dcct.model.head.num_classes == 842  # LS-VID's training ids
    assert dcct.train_dataloader.dataset.type == 'LSVID'


def test_non_utf8_byte_in_list(lsvid_copy):
    list_file = osp.join(lsvid_copy, 'list_sequence', 'list_seq_train.txt')
    with open(list_file, 'rb') as f:
        first = f.readline()
        rest = f.read()
    with open(list_file, 'wb') as f:
        f.write(first + b'\xe9' + rest)
    with pytest.raises(ValueError) as exc:
        _build(lsvid_copy, 'train')
    assert str(exc.value).startswith(
        f'{list_file}, line 2: the byte 0xe9 at byte offset {len(first)} '
        'of the file (column 1 of the line) is not UTF-8')
