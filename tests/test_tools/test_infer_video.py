"""tools/infer.py on the user's own video: ``embed --video --tracks``
writes a gallery index with track ids and frame ranges (tracks file found
beside the video when not given), bad tracks lines and unreadable videos
are refused naming the file; ``search --backend faiss`` over that index
prints the exact search's hits. On a tiny trained DCCT checkpoint and the
synthetic video of mmdcct.testing.synthetic_video."""
import importlib.util
import json
import os
import os.path as osp

import cv2
import pytest

from mmdcct.testing.synthetic_video import make_video_tracks_demo

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return _load('_tool_infer_video', osp.join(REPO, 'tools', 'infer.py'))


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    return make_video_tracks_demo(str(tmp_path_factory.mktemp('clip')))


def common(tiny_dcct):
    return [tiny_dcct['config'], tiny_dcct['checkpoint'], '--device', 'cpu',
            '--no-progress']


@pytest.fixture(scope='module')
def video_index(tool, tiny_dcct, demo, tmp_path_factory):
    """``embed --video`` with the tracks file found beside the video."""
    out = str(tmp_path_factory.mktemp('index') / 'clip_gallery')
    argv = ['embed', *common(tiny_dcct), '--video', demo['video'],
            '--max-tracklet-len', '64', '--out', out]
    return out, argv


def test_embed_video(tool, tiny_dcct, demo, video_index, capsys):
    out, argv = video_index
    assert tool.main(argv) == 0
    printed = capsys.readouterr().out
    assert ('4 tracks, 306 boxes (37 clipped to the frame; skipped: 13 '
            'outside the frame, 1 of zero area, 0 after the end of the '
            'video)') in printed
    assert '6 tracklets (at most 64 frames' in printed
    with open(out + '.json') as f:
        meta = json.load(f)
    assert meta['num_entries'] == 6
    assert [(e['track_id'], e['start_frame'], e['end_frame'])
            for e in meta['entries']] == [(1, 1, 64), (1, 65, 128),
                                          (1, 129, 150), (2, 1, 47),
                                          (3, 1, 39), (3, 45, 100)]
    assert meta['info']['tracks'] == osp.abspath(demo['tracks'])
    assert meta['info']['feature'] == 'all'
    assert meta['search_backend'] == dict(type='exact')

    # explicit --tracks and other cutting options
    out2 = out + '_long'
    assert tool.main(['embed', *common(tiny_dcct), '--video', demo['video'],
                      '--tracks', demo['tracks'], '--max-tracklet-len',
                      '200', '--max-gap', '5', '--crop-size', '32', '16',
                      '--out', out2]) == 0
    with open(out2 + '.json') as f:
        entries = json.load(f)['entries']
    got = [(e['track_id'], e['num_frames']) for e in entries]
    assert got == [(1, 150), (2, 47), (3, 95)]


def test_embed_video_errors(tool, tiny_dcct, demo, tmp_path, capsys):
    bad = tmp_path / 'bad.txt'
    bad.write_text('1,1,0,0,10,10,1\n2,1,0,0,ten,10,1\n')
    assert tool.main(['embed', *common(tiny_dcct), '--video', demo['video'],
                      '--tracks', str(bad), '--out',
                      str(tmp_path / 'x')]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: '2,1,0,0,ten,10,1'" in err
    assert 'not a number' in err

    empty = tmp_path / 'empty.avi'
    empty.write_bytes(b'')
    assert tool.main(['embed', *common(tiny_dcct), '--video', str(empty),
                      '--tracks', demo['tracks'], '--out',
                      str(tmp_path / 'x')]) == 2
    err = capsys.readouterr().err
    assert 'Cannot read any frame from video' in err and 'empty.avi' in err

    # no tracks file beside the video
    lonely = tmp_path / 'lonely.avi'
    lonely.write_bytes(open(demo['video'], 'rb').read())
    assert tool.main(['embed', *common(tiny_dcct), '--video', str(lonely),
                      '--out', str(tmp_path / 'x')]) == 2
    err = capsys.readouterr().err
    assert 'lonely.txt' in err and '--tracks' in err
    assert not (tmp_path / 'x.npz').exists()

    assert tool.main(['embed', *common(tiny_dcct), '--tracks',
                      demo['tracks'], '--out', str(tmp_path / 'x')]) == 2
    assert '--tracks needs --video' in capsys.readouterr().err


def _query_folder(demo, folder):
    """Frames 5-8 of track 1 (the red person) as a tracklet folder."""
    os.makedirs(folder, exist_ok=True)
    cap = cv2.VideoCapture(demo['video'])
    for frame in range(1, 9):
        ok, img = cap.read()
        assert ok
        if frame >= 5:
            x = int(10 + 1.5 * (frame - 1) + 0.5)
            cv2.imwrite(osp.join(folder, f'{frame:04d}.png'),
                        img[20:80, x:x + 30])
    cap.release()
    return folder


def test_search_video_index_with_faiss(tool, tiny_dcct, demo, video_index,
                                       tmp_path, capsys):
    out, argv = video_index
    if not osp.isfile(out + '.json'):
        assert tool.main(argv) == 0
    query = _query_folder(demo, str(tmp_path / 'query'))
    base = ['search', *common(tiny_dcct), query, '--index', out, '--topk',
            '6']
    assert tool.main(base) == 0
    exact = capsys.readouterr().out
    assert 'exact search' in exact
    assert tool.main(base + ['--backend', 'faiss']) == 0
    flat = capsys.readouterr().out
    assert 'faiss-flat search' in flat

    def table(text):
        """``{tracklet name: distance}`` and the names in rank order."""
        rows = [line.split() for line in text[text.index('rank'):].splitlines()
                if line.strip() and line.split()[0].isdigit()]
        return {r[-1]: float(r[1]) for r in rows}, [r[-1] for r in rows]

    def same_hits(a, b):
        # same entries and distances; ranks may swap only between equal
        # printed distances
        (da, na), (db, nb) = table(a), table(b)
        assert da.keys() == db.keys() and len(na) == 6
        for name in da:
            assert da[name] == pytest.approx(db[name], abs=1.5e-4)
        assert [da[n] for n in na] == sorted(da.values())
        assert [db[n] for n in nb] == sorted(db.values())

    same_hits(flat, exact)
    # the red person's crops find its three tracklets first
    dists, names = table(exact)
    assert {n.split('/')[-2] for n in names[:3]} == {'track_1'}
    # an approximate index over the 6 tracklets, every cell scanned
    assert tool.main(base + ['--backend', 'faiss', '--faiss-index', 'ivf',
                             '--nlist', '2', '--nprobe', '2']) == 0
    ivf = capsys.readouterr().out
    assert 'faiss-ivf search (nlist=2, nprobe=2' in ivf
    same_hits(ivf, exact)
    # parameters of another index are refused
    assert tool.main(base + ['--backend', 'faiss', '--nprobe', '2']) == 2
    assert '--nprobe does not apply' in capsys.readouterr().err
    assert tool.main(base + ['--faiss-index', 'ivf']) == 2
    assert '--faiss-index needs --backend faiss' in capsys.readouterr().err
