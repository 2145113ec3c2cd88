"""tools/infer.py: MARS identity folders are split (never merged), mixed
folders refused, the index's feature mode used or a mismatch refused, and
cameras printed 1-based; on a tiny trained DCCT checkpoint."""
import importlib.util
import json
import os.path as osp
import shutil

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return _load('_tool_infer_cli', osp.join(REPO, 'tools', 'infer.py'))


@pytest.fixture(scope='module')
def identity(synthetic_mars):
    """A test identity folder ``bbox_test/<pid>`` seen by 2+ cameras and
    its tracks in (camera, tracklet) order."""
    by_pid = {}
    for track in synthetic_mars['test_tracks']:
        if track['kind'] == 'person':
            by_pid.setdefault(track['pid'], []).append(track)
    pid, tracks = next((p, t) for p, t in sorted(by_pid.items())
                       if len({x['cam'] for x in t}) > 1)
    folder = osp.join(synthetic_mars['out_dir'], 'bbox_test', f'{pid:04d}')
    return folder, sorted(tracks, key=lambda t: (t['cam'], t['tracklet']))


def common(tiny_dcct):
    return [tiny_dcct['config'], tiny_dcct['checkpoint'], '--device', 'cpu',
            '--no-progress']


def test_embed_splits_an_identity_folder(tool, tiny_dcct, identity, tmp_path,
                                         capsys):
    folder, tracks = identity
    out = str(tmp_path / 'feats.npz')
    assert tool.main(['embed', *common(tiny_dcct), folder, '--out', out]) == 0
    printed = capsys.readouterr().out
    assert f'{len(tracks)} tracklets (1 identity folders split' in printed
    with np.load(out) as data:
        assert data['features'].shape[0] == len(tracks) > 1
        assert list(data['names']) == [
            osp.join(folder, f'C{t["cam"]}T{t["tracklet"]:04d}')
            for t in tracks
        ]
        assert data['camids'].tolist() == [t['cam'] for t in tracks]
        assert data['pids'].tolist() == [t['pid'] for t in tracks]
        assert str(data['feature']) == 'all'


def test_mixed_folder_is_refused(tool, tiny_dcct, identity, tmp_path,
                                 capsys):
    folder, tracks = identity
    mixed = tmp_path / 'mixed'
    shutil.copytree(folder, mixed)
    shutil.copy(osp.join(folder, tracks[0]['names'][0]),
                mixed / 'snapshot.jpg')
    for cmd in (['embed', *common(tiny_dcct), str(mixed), '--out',
                 str(tmp_path / 'x.npz')],
                ['search', *common(tiny_dcct), str(mixed), '--gallery',
                 folder]):
        assert tool.main(cmd) == 2
        err = capsys.readouterr().err
        assert err.startswith(f'error: Folder {str(mixed)!r} mixes')
        assert "'snapshot.jpg'" in err
    assert not (tmp_path / 'x.npz').exists()


def test_index_feature_mode_is_used_or_a_mismatch_refused(
        tool, tiny_dcct, identity, tmp_path, capsys):
    folder, tracks = identity
    stem = str(tmp_path / 'index')
    query = folder
    assert tool.main([
        'search', *common(tiny_dcct), query, '--gallery', folder,
        '--save-index', stem, '--feature', 'base', '--topk', '3'
    ]) == 0
    built = capsys.readouterr().out
    # every query part finds itself first; cameras print as C1 ... (1-based)
    for track in tracks:
        name = osp.join(folder, f'C{track["cam"]}T{track["tracklet"]:04d}')
        block = built.split(f'query: {name}\n', 1)[1].split('\n\n', 1)[0]
        first = block.splitlines()[1].split()
        assert first[0] == '1' and float(first[1]) < 1e-4
        assert first[2:] == [str(track['pid']), f'C{track["cam"]}', name]
    assert 'rank  distance    pid  camera  gallery tracklet' in built

    # --feature left out: the recorded mode, the same table
    assert tool.main(['search', *common(tiny_dcct), query, '--index', stem,
                      '--topk', '3']) == 0
    reused = capsys.readouterr().out
    assert "feature mode 'base' (recorded in the index)" in reused
    assert reused.split('gallery: ', 1)[1] == built.split('gallery: ', 1)[1]

    # another --feature: an error naming both modes, before any model work
    assert tool.main(['search', *common(tiny_dcct), query, '--index', stem,
                      '--feature', 'all']) == 2
    err = capsys.readouterr().err
    assert "holds 'base' features but --feature all was given" in err
    assert 'Leave --feature out' in err

    # an index that records no mode: the widths tell, with a clear error
    with open(stem + '.json') as f:
        meta = json.load(f)
    del meta['info']['feature']
    with open(stem + '.json', 'w') as f:
        json.dump(meta, f)
    assert tool.main(['search', *common(tiny_dcct), query, '--index', stem,
                      '--feature', 'all']) == 2
    err = capsys.readouterr().err
    assert 'the index holds width-160 features' in err
