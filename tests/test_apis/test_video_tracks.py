"""Tracklets from a video and its MOTChallenge tracks: parsing and its
errors, clipping / skipping boxes, cutting tracks at gaps and at the
maximum length, crops equal to the frames' pixel regions, and the gallery
index of a synthetic video (mmdcct.testing.synthetic_video)."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdcct.apis import (GalleryIndex, VideoReIDInferencer,
                         crop_track_tracklets, index_video_tracks,
                         plan_tracklets, read_mot_tracks)
from mmdcct.testing.synthetic_video import (make_video_tracks_demo,
                                            write_mot_tracks,
                                            write_synthetic_video)

#: (track id, first frame, last frame) of the demo scene's tracklets with
#: at most 64 frames: track 1 (150 frames) cut in three, track 2 ends when
#: it leaves the frame (48-60 fully outside), track 3 cut at its gap
#: (40-44); track 4's only box has zero area.
EXPECTED = [(1, 1, 64), (1, 65, 128), (1, 129, 150), (2, 1, 47), (3, 1, 39),
            (3, 45, 100)]


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    return make_video_tracks_demo(str(tmp_path_factory.mktemp('video')))


@pytest.fixture(scope='module')
def frames(demo):
    """The video's frames (RGB), read independently."""
    cap = cv2.VideoCapture(demo['video'])
    out = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    cap.release()
    return out


def ranges(tracklets):
    return sorted((t['track_id'], t['frames'][0], t['frames'][-1])
                  for t in tracklets)


def test_read_mot_tracks(demo):
    tracks = read_mot_tracks(demo['tracks'])
    assert [t['track_id'] for t in tracks] == [1, 2, 3, 4]
    assert [len(t['frames']) for t in tracks] == [150, 60, 95, 1]
    three = tracks[2]
    assert 40 not in three['frames'] and 45 in three['frames']
    np.testing.assert_allclose(tracks[0]['boxes'][1], [11.5, 20, 30, 60])
    assert tracks[0]['frames'].dtype == np.int64


def test_read_mot_tracks_formats(tmp_path):
    path = tmp_path / 't.txt'
    path.write_text('# frame id x y w h\n\n'
                    '2 7 1.0 2.0 3.0 4.0\n'  # white space separated
                    '1, 7, 0, 0, 5, 5, 0.2, -1, -1, -1\n'
                    '1,3,0,0,5,5,0.9\n')
    tracks = read_mot_tracks(str(path))
    assert [t['track_id'] for t in tracks] == [3, 7]
    assert tracks[1]['frames'].tolist() == [1, 2]  # sorted by frame
    assert tracks[1]['lines'] == [4, 3]
    kept = read_mot_tracks(str(path), min_conf=0.5)
    assert [len(t['frames']) for t in kept] == [1, 1]


@pytest.mark.parametrize('line, message', [
    ('1,2,3,4,5', 'at least 6 fields'),
    ('1,2,x,4,5,6', 'not a number'),
    ('0,2,3,4,5,6', '1-based'),
    ('1.5,2,3,4,5,6', 'frame number must be an integer'),
    ('1,-1,3,4,5,6', 'run a tracker first'),
    ('1,2,nan,4,5,6', 'not finite'),
])
def test_malformed_line_names_file_and_line(tmp_path, line, message):
    path = tmp_path / 'tracks.txt'
    path.write_text(f'1,1,0,0,10,10,1\n{line}\n')
    with pytest.raises(ValueError, match=message) as err:
        read_mot_tracks(str(path))
    assert f'{path}:2: {line!r}' in str(err.value)


def test_duplicate_and_empty_tracks(tmp_path):
    path = tmp_path / 'dup.txt'
    path.write_text('1,1,0,0,10,10\n2,1,0,0,10,10\n1,1,5,5,10,10\n')
    with pytest.raises(ValueError, match=r'dup.txt:3.*track 1 already has '
                       r'a box in frame 1 \(line 1\)'):
        read_mot_tracks(str(path))
    empty = tmp_path / 'empty.txt'
    empty.write_text('# nothing\n')
    with pytest.raises(ValueError, match='empty.txt.*holds no box line'):
        read_mot_tracks(str(empty))
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        read_mot_tracks(str(tmp_path / 'missing.txt'))


def test_plan_tracklets(demo):
    tracks = read_mot_tracks(demo['tracks'])
    planned, stats = plan_tracklets(tracks, demo['size'])
    assert ranges(planned) == EXPECTED
    assert stats == dict(boxes=306, clipped=37, skipped_outside=13,
                         skipped_empty=1, dropped_short=0)
    for t in planned:  # every kept box is inside the frame, non-empty
        b = np.array(t['boxes'])
        assert (b[:, :2] >= 0).all() and (b[:, 2] <= 320).all()
        assert (b[:, 3] <= 240).all()
        assert (b[:, 2] > b[:, 0]).all() and (b[:, 3] > b[:, 1]).all()
        assert len(t['frames']) <= 64
    # a clipped box: track 2 at frame 40 (x = 308.5, w = 28)
    two = next(t for t in planned if t['track_id'] == 2)
    assert two['boxes'][39] == (309, 90, 320, 146)
    # a gap of 5 frames bridged, a longer maximum, a minimum length
    planned, stats = plan_tracklets(tracks, demo['size'], 100, max_gap=5,
                                    min_len=51)
    assert ranges(planned) == [(1, 1, 100), (3, 1, 100)]
    assert stats['dropped_short'] == 2  # 1: 101-150 (50), 2: 1-47
    with pytest.raises(ValueError, match='max_tracklet_len'):
        plan_tracklets(tracks, demo['size'], 0)


def test_crops_are_the_frame_regions(demo, frames):
    assert len(frames) == demo['num_frames']
    tracklets, stats = crop_track_tracklets(demo['video'], demo['tracks'])
    assert ranges(tracklets) == EXPECTED
    assert stats['tracks'] == 4 and stats['tracklets'] == 6
    assert stats['beyond_video'] == 0
    colours = {p['track_id']: p['colour'] for p in demo['people']}
    for t in tracklets:
        crops = t['crops']
        assert crops.dtype == np.uint8 and crops.ndim == 4
        assert len(crops) == len(t['frames'])
        h, w = crops.shape[1:3]
        for frame, (x1, y1, x2, y2), crop in zip(t['frames'], t['boxes'],
                                                 crops):
            region = frames[frame - 1][y1:y2, x1:x2]
            expected = cv2.resize(region, (w, h),
                                  interpolation=cv2.INTER_LINEAR) \
                if region.shape[:2] != (h, w) else region
            np.testing.assert_array_equal(crop, expected)
        # a solid-colour person: the crops' mean colour is its colour (the
        # codec blurs the edges a little)
        mean = crops.reshape(-1, 3).mean(0)
        assert np.abs(mean - colours[t['track_id']]).max() < 30, (t, mean)
    # track 1 keeps its 60 x 30 box, unresized
    one = [t for t in tracklets if t['track_id'] == 1]
    assert all(t['crops'].shape[1:3] == (60, 30) for t in one)
    # clipped crops of track 2 (frames 30-47) are still the person only
    two = next(t for t in tracklets if t['track_id'] == 2)
    assert np.abs(two['crops'][30:].reshape(-1, 3).mean(0) -
                  colours[2]).max() < 30
    # a fixed crop size
    fixed, _ = crop_track_tracklets(demo['video'], demo['tracks'],
                                    crop_size=(32, 16))
    assert {t['crops'].shape[1:3] for t in fixed} == {(32, 16)}


def test_tracks_past_the_end_of_the_video(demo, tmp_path):
    rows = [(f, 1, 10.0, 20.0, 30.0, 60.0) for f in range(140, 161)]
    rows += [(f, 2, 10.0, 20.0, 30.0, 60.0) for f in range(155, 158)]
    tracks = write_mot_tracks(str(tmp_path / 'late.txt'), rows)
    tracklets, stats = crop_track_tracklets(demo['video'], tracks)
    assert ranges(tracklets) == [(1, 140, 150)]
    assert stats['beyond_video'] == 10 + 3
    assert stats['dropped_beyond'] == 1
    assert stats['video_frames_read'] == 150


def test_unreadable_video(demo, tmp_path):
    empty = tmp_path / 'empty.avi'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match=r"Cannot read any frame from video "
                       r"'.*empty\.avi'"):
        crop_track_tracklets(str(empty), demo['tracks'])
    text = tmp_path / 'notes.mp4'
    text.write_text('not a video\n' * 100)
    with pytest.raises(ValueError, match='notes.mp4'):
        crop_track_tracklets(str(text), demo['tracks'])
    with pytest.raises(FileNotFoundError, match='nope.avi'):
        crop_track_tracklets(str(tmp_path / 'nope.avi'), demo['tracks'])


def test_sprite_video(tmp_path):
    people = [dict(track_id=5, colour=(0, 0, 0), size=(48, 24), start=1,
                   end=6, xy=(-10.0, 5.0), velocity=(4.0, 1.0))]
    boxes = write_synthetic_video(str(tmp_path / 's.avi'), people, 8,
                                  size=(64, 96), style='sprite')
    assert [b[0] for b in boxes[5]] == [1, 2, 3, 4, 5, 6]
    tracks = write_mot_tracks(str(tmp_path / 's.txt'),
                              [(b[0], 5, *b[1:]) for b in boxes[5]])
    tracklets, stats = crop_track_tracklets(str(tmp_path / 's.avi'), tracks)
    assert ranges(tracklets) == [(5, 1, 6)]
    assert stats['clipped'] == 3  # x < 0 in frames 1-3


@pytest.fixture(scope='module')
def inferencer(tiny_dcct):
    return VideoReIDInferencer(
        tiny_dcct['config'], tiny_dcct['checkpoint'], device='cpu')


def test_index_video_tracks(inferencer, demo, tmp_path):
    index, stats = index_video_tracks(inferencer, demo['video'],
                                      demo['tracks'], chunk=4)
    assert len(index) == stats['tracklets'] == 6
    got = [(m['track_id'], m['start_frame'], m['end_frame'])
           for m in index.metadata]
    assert got == EXPECTED  # sorted by (track, first frame)
    assert [m['num_frames'] for m in index.metadata] == [64, 64, 22, 47, 39,
                                                         56]
    assert [m['tracklet'] for m in index.metadata] == [0, 1, 2, 0, 0, 1]
    video = osp.abspath(demo['video'])
    assert index.metadata[1]['name'] == f'{video}/track_1/65-128'
    assert index.info['feature'] == inferencer.feature
    assert index.info['video'] == video
    assert index.info['max_tracklet_len'] == 64
    # the features are the crops' embeddings
    tracklets, _ = crop_track_tracklets(demo['video'], demo['tracks'])
    by_range = {(t['track_id'], t['frames'][0]): t['crops']
                for t in tracklets}
    ref = inferencer.extract(
        [by_range[(tid, start)] for tid, start, _ in EXPECTED],
        progress=False)
    np.testing.assert_allclose(index.features, ref, atol=1e-5)
    index.save(tmp_path / 'clip')
    loaded = GalleryIndex.load(tmp_path / 'clip')
    assert loaded.metadata == index.metadata
    # nothing left to embed
    none = write_mot_tracks(str(tmp_path / 'none.txt'),
                            [(1, 1, 500.0, 10.0, 20.0, 20.0)])
    with pytest.raises(ValueError, match='No tracklet to embed'):
        index_video_tracks(inferencer, demo['video'], none)
