"""GalleryIndex: build from folders, save / load round trip, search against
a brute-force ranking, name parsing, and the tools/infer.py CLI."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest

from mmdcct.apis import (GalleryIndex, VideoReIDInferencer,
                         format_search_results, parse_pid_camid)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def inferencer(tiny_dcct):
    return VideoReIDInferencer(
        tiny_dcct['config'], tiny_dcct['checkpoint'], device='cpu')


@pytest.fixture(scope='module')
def index(inferencer, tracklet_folders):
    return GalleryIndex.from_folders(
        inferencer,
        osp.join(tracklet_folders['root'], 'gallery'),
        progress=False)


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'_tool_{name}', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('name, pid, camid', [
    ('0088C1T0001', 88, 1),
    ('00-1C3T0002', -1, 3),
    ('0002_c5s1_000451_03', 2, 5),
    ('17_cam2', 17, 2),
    ('person_a', None, None),
])
def test_parse_pid_camid(name, pid, camid):
    assert parse_pid_camid(name) == dict(pid=pid, camid=camid)
    assert parse_pid_camid(name, pattern=None) == dict(pid=None, camid=None)


def test_from_folders_metadata(index, tracklet_folders):
    assert len(index) == len(tracklet_folders['gallery'])
    assert index.paths == [osp.abspath(p) for p in tracklet_folders['gallery']]
    for meta in index.metadata:
        track = tracklet_folders['tracks'][meta['path']]
        assert meta['pid'] == track['pid']
        assert meta['camid'] == track['cam']
        assert meta['num_frames'] == len(track['names'])
    np.testing.assert_allclose(
        np.linalg.norm(index.features, axis=1), 1, rtol=1e-5)
    assert index.info['feature'] == 'all'


def test_given_ids_override_parsed_ones(inferencer, tracklet_folders):
    folders = tracklet_folders['gallery'][:3]
    idx = GalleryIndex.from_folders(
        inferencer,
        folders,
        pids=[7, 8, None],
        camids=[0, 1, 2],
        progress=False)
    assert idx.pids.tolist() == [7, 8, -2]
    assert idx.camids.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match='pids'):
        GalleryIndex.from_folders(
            inferencer, folders, pids=[1], progress=False)


def test_save_load_round_trip(index, tmp_path):
    npz, js = index.save(str(tmp_path / 'sub' / 'gallery.npz'))
    assert npz.endswith('gallery.npz') and js.endswith('gallery.json')
    meta = json.loads(open(js).read())
    assert meta['num_entries'] == len(index)
    assert meta['feature_dim'] == index.feature_dim
    for path in (str(tmp_path / 'sub' / 'gallery'), npz, js):
        loaded = GalleryIndex.load(path)
        np.testing.assert_array_equal(loaded.features, index.features)
        assert loaded.metadata == index.metadata
        assert loaded.info == index.info
    with pytest.raises(FileNotFoundError):
        GalleryIndex.load(str(tmp_path / 'nothing'))


def test_search_matches_brute_force(index, inferencer, tracklet_folders):
    q = inferencer(tracklet_folders['query'], progress=False)
    dists, inds = index.search(q, topk=7)
    assert dists.shape == inds.shape == (len(q), 7)
    full = 1 - q @ index.features.T
    for row in range(len(q)):
        order = np.argsort(full[row], kind='stable')[:7]
        np.testing.assert_allclose(dists[row], full[row][order], atol=1e-5)
        assert np.all(np.diff(dists[row]) >= -1e-6)
        # the brute-force order, up to float ties
        np.testing.assert_allclose(
            full[row][inds[row]], full[row][order], atol=1e-5)
    # a gallery member finds itself first, at distance ~0
    d, i = index.search(index.features[3], topk=1000)
    assert i[0, 0] == 3 and abs(d[0, 0]) < 1e-5
    assert d.shape == (1, len(index))  # topk clipped to the gallery


def test_search_ties_keep_gallery_order_across_chunks():
    rng = np.random.default_rng(0)
    feats = rng.standard_normal((40, 8)).astype(np.float32)
    feats[[7, 21, 30]] = feats[12]  # four equal entries
    index = GalleryIndex(feats, [dict(pid=i) for i in range(40)])
    queries = rng.standard_normal((5, 8)).astype(np.float32)
    queries[2] = feats[12]
    dists, inds = index.search(queries, topk=6, chunk_size=2)
    assert inds.shape == dists.shape == (5, 6)
    assert list(inds[2, :4]) == [7, 12, 21, 30]
    assert np.all(dists[2, :4] == dists[2, 0]) and dists[2, 0] < 1e-6
    full = 1 - (queries / np.linalg.norm(queries, axis=1, keepdims=True)
                ) @ index.features.T
    np.testing.assert_array_equal(
        inds[[0, 1, 3, 4]],
        np.argsort(full[[0, 1, 3, 4]], axis=1, kind='stable')[:, :6])
    with pytest.raises(ValueError, match='topk'):
        index.search(queries, topk=0)


def test_query_and_table(index, inferencer, tracklet_folders):
    queries = tracklet_folders['query'][:2]
    hits = index.query(inferencer, queries, topk=3, progress=False)
    assert [h['rank'] for h in hits[0]] == [1, 2, 3]
    assert set(hits[0][0]) >= {'rank', 'distance', 'path', 'pid', 'camid'}
    table = format_search_results(hits, queries)
    assert table.count('query: ') == 2
    assert 'rank  distance    pid  camera  gallery tracklet' in table
    assert hits[1][2]['path'] in table
    # cameras print 1-based as in the names (C1 = camera 1)
    for hit in hits[0]:
        track = tracklet_folders['tracks'][hit['path']]
        assert hit['camid'] == track['cam'] >= 1
        assert f'{track["pid"]:>5}  {"C%d" % track["cam"]:>6}  ' \
            f'{hit["path"]}' in table


def test_infer_cli_embed_and_search(tiny_dcct, tracklet_folders, tmp_path,
                                    capsys):
    tool = load_tool('infer')
    gallery_root = osp.join(tracklet_folders['root'], 'gallery')
    out = tmp_path / 'feats.npz'
    assert tool.main([
        'embed', tiny_dcct['config'], tiny_dcct['checkpoint'], gallery_root,
        '--out',
        str(out), '--device', 'cpu'
    ]) == 0
    with np.load(out) as data:
        assert data['features'].shape == (len(tracklet_folders['gallery']),
                                          2 * (128 + 32) + 32)
        assert [osp.basename(p) for p in data['paths']
                ] == [osp.basename(p) for p in tracklet_folders['gallery']]
    capsys.readouterr()

    stem = str(tmp_path / 'index')
    query = tracklet_folders['query'][0]
    assert tool.main([
        'search', tiny_dcct['config'], tiny_dcct['checkpoint'], query,
        '--gallery', gallery_root, '--save-index', stem, '--topk', '4',
        '--no-progress', '--device', 'cpu'
    ]) == 0
    built = capsys.readouterr().out
    assert osp.isfile(stem + '.npz') and osp.isfile(stem + '.json')
    assert f'query: {query}' in built
    lines = [ln for ln in built.splitlines() if ln[:4].strip().isdigit()]
    assert [int(ln.split()[0]) for ln in lines] == [1, 2, 3, 4]

    # the saved index gives the same table
    assert tool.main([
        'search', tiny_dcct['config'], tiny_dcct['checkpoint'], query,
        '--index', stem, '--topk', '4', '--no-progress', '--device', 'cpu'
    ]) == 0
    reloaded = capsys.readouterr().out
    assert reloaded.split('gallery: ', 1)[1] == built.split('gallery: ', 1)[1]


def mars_identity_folder(synthetic_mars):
    """``bbox_test/<pid>`` of a test identity seen by 2+ cameras, and its
    tracks."""
    by_pid = {}
    for track in synthetic_mars['test_tracks']:
        if track['kind'] == 'person':
            by_pid.setdefault(track['pid'], []).append(track)
    pid, tracks = next((p, t) for p, t in sorted(by_pid.items())
                       if len({x['cam'] for x in t}) > 1)
    folder = osp.join(synthetic_mars['out_dir'], 'bbox_test', f'{pid:04d}')
    return folder, sorted(tracks, key=lambda t: (t['cam'], t['tracklet']))


def test_identity_folder_is_split_not_merged(inferencer, synthetic_mars):
    folder, tracks = mars_identity_folder(synthetic_mars)
    with pytest.raises(ValueError, match=f'holds {len(tracks)} tracklets'
                       '.*would merge them'):
        inferencer(folder, progress=False)
    index = GalleryIndex.from_folders(inferencer, folder, progress=False)
    assert len(index) == len(tracks)
    for meta, track in zip(index.metadata, tracks):
        assert meta['pid'] == track['pid']
        assert meta['camid'] == track['cam']  # 1-based, as in the names
        assert meta['name'] == osp.join(
            osp.abspath(folder), f'C{track["cam"]}T{track["tracklet"]:04d}')
        assert meta['num_frames'] == len(track['names'])
    # every entry is the feature of that tracklet alone
    alone = inferencer.extract(
        [[osp.join(folder, n) for n in t['names']] for t in tracks],
        progress=False)
    np.testing.assert_allclose(index.features, alone, atol=1e-5)
    assert index.names[0].endswith(f'C{tracks[0]["cam"]}T'
                                   f'{tracks[0]["tracklet"]:04d}')


def test_query_with_another_feature_mode_names_both(index, tiny_dcct,
                                                    tracklet_folders):
    base = VideoReIDInferencer(
        tiny_dcct['config'],
        tiny_dcct['checkpoint'],
        device='cpu',
        feature='base')
    with pytest.raises(ValueError, match="holds 'all' features but the "
                       "queries would be embedded with feature 'base'"):
        index.query(base, tracklet_folders['query'][:1], progress=False)
    feats = base(tracklet_folders['query'][:1], progress=False)
    with pytest.raises(ValueError, match=r"got shape \(1, 160\).*width-352 "
                       r"features \(feature 'all'\)"):
        index.search(feats)
