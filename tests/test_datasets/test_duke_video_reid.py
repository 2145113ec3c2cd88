"""Tests of ``DukeMTMCVideoReID`` on a synthetic DukeMTMC-VideoReID tree."""
import os
import os.path as osp
import shutil

import pytest

from mmdcct.datasets import (BaseVideoReIDDataset, DukeMTMCVideoReID,
                             parse_duke_video_name)
from mmdcct.registry import DATASETS
from mmdcct.testing import make_synthetic_duke_video


def _build(root, split, **kwargs):
    # serialize_data=False skips MMEngine's gc.collect() (~0.3 s per build)
    kwargs.setdefault('serialize_data', False)
    return DATASETS.build(
        dict(type='DukeMTMCVideoReID', data_root=root, split=split, **kwargs))


def _infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def _check_tracklets(infos, records, root):
    assert len(infos) == len(records)
    for info, rec in zip(infos, records):
        assert info['raw_pid'] == rec['pid']
        assert info['camid'] == rec['cam'] - 1
        assert [osp.basename(p) for p in info['img_paths']] == rec['names']
        assert all(
            osp.dirname(p) == osp.join(root, rec['folder'])
            for p in info['img_paths'])
        assert info['num_frames'] == len(rec['names'])


@pytest.fixture
def duke_copy(synthetic_duke, tmp_path):
    root = tmp_path / 'duke'
    shutil.copytree(synthetic_duke['out_dir'], root)
    return str(root)


def test_train_split(synthetic_duke):
    root = synthetic_duke['out_dir']
    ds = _build(root, 'train')
    assert isinstance(ds, DukeMTMCVideoReID)
    assert isinstance(ds, BaseVideoReIDDataset) and not ds.test_mode
    infos = _infos(ds)
    _check_tracklets(infos, synthetic_duke['tracks']['train'], root)
    raw = synthetic_duke['train_pids']
    assert sorted({i['raw_pid'] for i in infos}) == raw
    assert all(i['pid'] == raw.index(i['raw_pid']) for i in infos)
    assert sorted({i['pid'] for i in infos}) == list(range(len(raw)))
    assert [i['tracklet_id'] for i in infos] == list(range(len(infos)))
    assert ds.metainfo['dataset_name'] == 'DukeMTMC-VideoReID'
    assert ds.metainfo['num_pids'] == len(raw)


def test_query_gallery_test_splits(synthetic_duke):
    root = synthetic_duke['out_dir']
    tracks = synthetic_duke['tracks']
    query = _infos(_build(root, 'query'))
    gallery = _infos(_build(root, 'gallery'))
    _check_tracklets(query, tracks['query'], root)
    _check_tracklets(gallery, tracks['gallery'], root)
    # one query per test identity; raw ids; flags
    assert sorted(i['pid'] for i in query) == synthetic_duke['test_pids']
    assert all(i['is_query'] and not i['is_gallery'] for i in query)
    assert all(i['is_gallery'] and not i['is_query'] for i in gallery)
    # distractor identities: gallery only; every query has a cross-camera
    # match without appending the queries to the gallery
    g_pids = {i['pid'] for i in gallery}
    assert g_pids == set(synthetic_duke['test_pids']) | set(
        synthetic_duke['distractor_pids'])
    for q in query:
        assert any(g['pid'] == q['pid'] and g['camid'] != q['camid']
                   for g in gallery)

    ds = _build(root, 'test')
    infos = _infos(ds)
    assert len(infos) == len(query) + len(gallery)
    assert sum(i['is_query'] for i in infos) == len(query)
    assert sum(i['is_gallery'] for i in infos) == len(gallery)  # no queries
    ids = [i['tracklet_id'] for i in infos]
    assert len(set(ids)) == len(ids)
    assert ds.metainfo['gallery_includes_query'] is False
    # the literature's option is still available
    with_q = _build(root, 'gallery', gallery_includes_query=True)
    assert len(with_q) == len(gallery) + len(query)


def test_frames_sorted_by_number_not_listing(tmp_path):
    """Unpadded F numbers, shuffled creation order, gaps, late starts."""
    summary = make_synthetic_duke_video(
        str(tmp_path / 'd'),
        num_train_ids=3,
        num_test_ids=2,
        num_distractor_ids=1,
        tracklet_len=(8, 14),
        img_size=(32, 16),
        zero_pad=False,
        seed=1)
    lexicographic_differs = False
    for split in ('train', 'query', 'gallery'):
        ds = _build(summary['out_dir'], split)
        for info, rec in zip(_infos(ds), summary['tracks'][split]):
            frames = [
                parse_duke_video_name(p)['frame'] for p in info['img_paths']
            ]
            assert frames == sorted(frames) == rec['frames']
            names = [osp.basename(p) for p in info['img_paths']]
            lexicographic_differs |= names != sorted(names)
    assert lexicographic_differs  # the test is not trivially satisfied
    starts = [r['frames'][0] for r in summary['tracks']['train']]
    assert max(starts) > 1  # some tracklets start after F1


def test_parse_name():
    assert parse_duke_video_name('0001_C6_F0017_X30823.jpg') == dict(
        pid=1, cam=6, frame=17)
    assert parse_duke_video_name('/a/0012C3F0099X30823.jpg') == dict(
        pid=12, cam=3, frame=99)
    with pytest.raises(ValueError, match='not a DukeMTMC-VideoReID'):
        parse_duke_video_name('cam1_person001_00001.png')


def test_missing_data_root_and_split_folder(tmp_path, duke_copy):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError) as exc:
        _build(missing, 'train')
    assert missing in str(exc.value)
    assert 'Expected layout' in str(exc.value)
    assert 'DukeMTMC-VideoReID/' in str(exc.value)
    path = osp.join(duke_copy, 'DukeMTMC-VideoReID', 'gallery')
    shutil.rmtree(path)
    with pytest.raises(FileNotFoundError) as exc:
        _build(duke_copy, 'test')
    assert path in str(exc.value) and 'Expected layout' in str(exc.value)


def _first_tracklet(root, split='query'):
    split_dir = osp.join(root, 'DukeMTMC-VideoReID', split)
    pid = sorted(os.listdir(split_dir))[0]
    tid = sorted(os.listdir(osp.join(split_dir, pid)))[0]
    tdir = osp.join(split_dir, pid, tid)
    return tdir, sorted(os.listdir(tdir))


@pytest.mark.parametrize('cam', ['C9', 'C0'])
def test_unknown_camera(duke_copy, cam):
    tdir, names = _first_tracklet(duke_copy)
    old = names[0]
    new = old[:5] + cam + old[7:]
    os.rename(osp.join(tdir, old), osp.join(tdir, new))
    with pytest.raises(ValueError) as exc:
        _build(duke_copy, 'query')
    assert osp.join(tdir, new) in str(exc.value)
    assert 'unknown camera' in str(exc.value) and 'C1..C8' in str(exc.value)


def test_identity_and_camera_disagreements(duke_copy):
    tdir, names = _first_tracklet(duke_copy, 'train')
    old = names[0]
    wrong_pid = '9999' + old[4:]
    os.rename(osp.join(tdir, old), osp.join(tdir, wrong_pid))
    with pytest.raises(ValueError, match='names identity 9999') as exc:
        _build(duke_copy, 'train')
    assert osp.join(tdir, wrong_pid) in str(exc.value)
    cam = int(old[6])
    other = old[:6] + str(cam % 8 + 1) + old[7:]
    os.rename(osp.join(tdir, wrong_pid), osp.join(tdir, other))
    if len(names) > 1:
        with pytest.raises(ValueError, match='mixes cameras') as exc:
            _build(duke_copy, 'train')
        assert tdir in str(exc.value)
    os.rename(osp.join(tdir, other), osp.join(tdir, 'garbage.jpg'))
    with pytest.raises(ValueError, match='garbage.jpg'):
        _build(duke_copy, 'train')


def test_non_numeric_identity_folder(duke_copy):
    bad = osp.join(duke_copy, 'DukeMTMC-VideoReID', 'train', 'notes')
    os.makedirs(bad)
    with pytest.raises(ValueError) as exc:
        _build(duke_copy, 'train')
    assert bad in str(exc.value) and 'identity folder' in str(exc.value)


def test_empty_tracklet_skipped_with_warning(synthetic_duke, duke_copy,
                                             mmlogger_messages):
    tdir, names = _first_tracklet(duke_copy, 'gallery')
    for name in names:
        os.remove(osp.join(tdir, name))
    open(osp.join(tdir, 'Thumbs.db'), 'w').close()  # not a frame
    ds = _build(duke_copy, 'gallery')
    assert len(ds) == len(synthetic_duke['tracks']['gallery']) - 1
    warnings = [m for m in mmlogger_messages if m.startswith('WARNING')]
    assert any(tdir in m and 'empty tracklet' in m for m in warnings)
    # the summary table is logged
    assert any('DukeMTMCVideoReID loaded' in m for m in mmlogger_messages)


def test_withdrawn_notice_logged_once(synthetic_duke, monkeypatch,
                                      mmlogger_messages):
    monkeypatch.setattr(DukeMTMCVideoReID, '_notice_logged', False)
    for split in ('train', 'query', 'test'):
        _build(synthetic_duke['out_dir'], split)
    notices = [m for m in mmlogger_messages if 'withdrawn' in m]
    assert notices == [
        'WARNING: DukeMTMCVideoReID: DukeMTMC-VideoReID was withdrawn by its '
        'creators (2019); some venues refuse results on it.'
    ]
    # other datasets do not log it
    mmlogger_messages.clear()
    monkeypatch.setattr(DukeMTMCVideoReID, '_notice_logged', False)
    DATASETS.build(
        dict(type='MARS', data_root=synthetic_duke['out_dir'], lazy_init=True))
    assert not any('withdrawn' in m for m in mmlogger_messages)
